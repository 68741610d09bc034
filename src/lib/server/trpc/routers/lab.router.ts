import { z } from 'zod';
import { allow, router } from '../init';

/**
 * The scoring lab is for admins only: a what-if reads every lead's scores, and saving rescores the
 * whole base. Drafts arrive unchecked (z.unknown) on purpose: the service parses them with the
 * shared rules schema and answers an InputError naming each bad field (`rules.3.values`,
 * `settings.fitThreshold`), which the editor shows beside the field.
 */
const draft = z.unknown();

export const labRouter = router({
  state: allow('admin').query(({ ctx }) => ctx.app.services.lab.state()),
  /** A mutation only because a draft of many rules is too long for a query string; it changes nothing. */
  whatIf: allow('admin')
    .input(draft)
    .mutation(({ ctx, input }) => ctx.app.services.lab.whatIf(input)),
  save: allow('admin')
    .input(z.object({ draft, note: z.string().trim().max(200).optional() }))
    .mutation(async ({ ctx, input }) => {
      const { version, jobId } = await ctx.app.services.lab.save(ctx.actor, input.draft, input.note);
      return { version, jobId };
    }),
  rollback: allow('admin')
    .input(z.object({ version: z.number().int().min(1) }))
    .mutation(async ({ ctx, input }) => {
      const { version, jobId } = await ctx.app.services.lab.rollback(ctx.actor, input.version);
      return { version, jobId };
    }),
  job: allow('admin')
    .input(z.object({ id: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => ctx.app.services.lab.job(input.id))
});
