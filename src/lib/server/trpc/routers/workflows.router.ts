import { z } from 'zod';
import { allow, router } from '../init';

/** Flows are the marketers' tool; admins see and run them too. */
const flowUsers = () => allow('admin', 'marketer');
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a workflow slug');
const id = z.string().min(1).max(64);

export const workflowsRouter = router({
  /** Every flow with its status, trigger, current version and leads per status. */
  list: flowUsers().query(({ ctx }) => ctx.app.services.engine.overview()),
  /** A flow's current definition, stats, versions and failed effects. */
  get: flowUsers()
    .input(z.object({ slug }))
    .query(({ ctx, input }) => ctx.app.services.engine.detail(input.slug)),
  /** One lead's enrollment: its path node by node with times, its effects and pending timers. */
  instance: flowUsers()
    .input(z.object({ id }))
    .query(({ ctx, input }) => ctx.app.services.engine.instance(input.id)),
  stats: flowUsers()
    .input(z.object({ slug }))
    .query(({ ctx, input }) => ctx.app.services.engine.stats(input.slug)),
  /** A paused flow stops acting; each lead resumes where it stood. */
  pause: flowUsers()
    .input(z.object({ slug }))
    .mutation(({ ctx, input }) => ctx.app.services.engine.setPaused(ctx.actor, input.slug, true)),
  resume: flowUsers()
    .input(z.object({ slug }))
    .mutation(({ ctx, input }) => ctx.app.services.engine.setPaused(ctx.actor, input.slug, false)),
  failedEffects: flowUsers()
    .input(z.object({ slug }))
    .query(({ ctx, input }) => ctx.app.services.engine.failedEffects(input.slug)),
  /** Puts a failed effect back in the queue; false when it was not failed (already retried). */
  retryEffect: flowUsers()
    .input(z.object({ id }))
    .mutation(async ({ ctx, input }) => ({ requeued: await ctx.app.services.engine.retryEffect(input.id) })),
  enroll: flowUsers()
    .input(z.object({ slug, leadIds: z.array(id).min(1).max(1000) }))
    .mutation(async ({ ctx, input }) => {
      const steps = await ctx.app.services.engine.enroll(ctx.actor, input.slug, input.leadIds);
      return { enrolled: steps.filter(Boolean).length, refused: steps.filter((s) => !s).length };
    }),
  /** The in-app mailbox (delivery off): the most recent messages, optionally for one lead. */
  mailbox: flowUsers()
    .input(z.object({ leadId: id.optional(), limit: z.number().int().min(1).max(500).default(100) }).default({ limit: 100 }))
    .query(({ ctx, input }) => ctx.app.services.engine.mailboxMessages(input))
});
