import { initTRPC, TRPCError } from '@trpc/server';
import type { App } from '../app';
import type { Role, User } from '../repositories/users.repo';
import { ConflictError, InputError, NotFoundError, type Actor } from '../services/deps';

export interface Context {
  app: App;
  user: User | null;
  ip: string;
}

/** Every procedure declares who may call it; a procedure without roles is refused to all. */
export interface Meta {
  roles?: readonly Role[];
  /** Callable without signing in (sign-in itself, first-admin set-up). */
  public?: boolean;
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    errorFormatter({ shape, error }) {
      const cause = error.cause;
      return {
        ...shape,
        data: { ...shape.data, issues: cause instanceof InputError ? cause.issues : undefined }
      };
    }
  });

/** Maps domain errors to tRPC codes the UI can show. */
const domainErrors = t.middleware(async ({ next }) => {
  const res = await next();
  if (!res.ok) {
    const c = res.error.cause;
    if (c instanceof InputError) throw new TRPCError({ code: 'BAD_REQUEST', message: c.message, cause: c });
    if (c instanceof NotFoundError) throw new TRPCError({ code: 'NOT_FOUND', message: c.message, cause: c });
    if (c instanceof ConflictError) throw new TRPCError({ code: 'CONFLICT', message: c.message, cause: c });
  }
  return res;
});

const publicGuard = t.middleware(({ ctx, next }) => next({ ctx: { ...ctx, actor: actorOf(ctx.user) } }));

const roleGuard = t.middleware(({ ctx, meta, next }) => {
  if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first' });
  if (!meta?.roles || !meta.roles.includes(ctx.user.role))
    throw new TRPCError({ code: 'FORBIDDEN', message: `Your role (${ctx.user.role}) may not do this` });
  return next({ ctx: { ...ctx, user: ctx.user, actor: actorOf(ctx.user) } });
});

function actorOf(user: User | null): Actor {
  return user ? { id: user.id, label: user.email } : { id: null, label: 'anonymous' };
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
const base = t.procedure.use(domainErrors);

export const ALL_ROLES = ['admin', 'marketer', 'sales'] as const satisfies readonly Role[];
export const publicProcedure = base.meta({ public: true }).use(publicGuard);
/** A procedure callable by the given roles only. */
export const allow = (...roles: Role[]) => base.meta({ roles }).use(roleGuard);
export const anyRole = () => allow(...ALL_ROLES);
