import { z } from 'zod';
import { allow, anyRole, router } from '../init';
import { newUserSchema, userPatchSchema } from '../../services/auth.service';

export const usersRouter = router({
  /** Everyone may see who the users are: owners are picked from this list. */
  list: anyRole().query(async ({ ctx }) => {
    const users = await ctx.app.services.auth.listUsers();
    return ctx.user.role === 'admin' ? users : users.filter((u) => u.active);
  }),
  create: allow('admin')
    .input(newUserSchema)
    .mutation(({ ctx, input }) => ctx.app.services.auth.createUser(ctx.actor, input)),
  update: allow('admin')
    .input(z.object({ id: z.string().min(1), patch: userPatchSchema }))
    .mutation(({ ctx, input }) => ctx.app.services.auth.updateUser(ctx.actor, input.id, input.patch))
});

export const apiKeysRouter = router({
  list: allow('admin').query(({ ctx }) => ctx.app.services.apiKeys.list()),
  create: allow('admin')
    .input(z.object({ name: z.string().max(100) }))
    .mutation(({ ctx, input }) => ctx.app.services.apiKeys.create(ctx.actor, input.name)),
  revoke: allow('admin')
    .input(z.object({ id: z.string().min(1) }))
    .mutation(({ ctx, input }) => ctx.app.services.apiKeys.revoke(ctx.actor, input.id))
});

export const auditRouter = router({
  list: allow('admin')
    .input(z.object({ before: z.number().int().optional() }).optional())
    .query(({ ctx, input }) => ctx.app.services.audit.list(200, input?.before)),
  /** Cursor paging for the audit page's "load older". */
  page: allow('admin')
    .input(
      z.object({
        limit: z.number().int().min(1).max(200).default(50),
        cursor: z.object({ at: z.number().int(), id: z.string().min(1).max(64) }).optional()
      })
    )
    .query(({ ctx, input }) => ctx.app.services.audit.page(input.limit, input.cursor))
});

export const meRouter = router({
  get: anyRole().query(({ ctx }) => ctx.user),
  setLocale: anyRole()
    .input(z.object({ locale: z.enum(['en', 'ru']) }))
    .mutation(({ ctx, input }) => ctx.app.services.auth.setLocale(ctx.user.id, input.locale))
});
