import { z } from 'zod';
import { allow, router } from '../init';
import { leadListQuerySchema } from '../../../shared/lead-query';

/** Segments are the marketers' tool (admins too); reps see leads, not audiences. */
const staff = () => allow('admin', 'marketer');
const id = z.string().min(1).max(64);
const leadIds = z.array(z.string().min(1).max(64)).min(1).max(10_000);
/** The definition is checked by the service with segmentDefinitionSchema, so a refusal names the field. */
const segmentInput = z.object({ name: z.string().trim().min(1).max(120), description: z.string().trim().max(500).optional(), definition: z.unknown() });

export const segmentsRouter = router({
  list: staff().query(({ ctx }) => ctx.app.services.segments.list()),
  get: staff()
    .input(z.object({ id }))
    .query(({ ctx, input }) => ctx.app.services.segments.get(input.id)),
  /** The builder's live count and sample; a POST because a definition can be long. */
  preview: staff()
    .input(z.object({ definition: z.unknown() }))
    .mutation(({ ctx, input }) => ctx.app.services.segments.preview(input.definition)),
  create: staff()
    .input(segmentInput)
    .mutation(({ ctx, input }) => ctx.app.services.segments.create(ctx.actor, input)),
  update: staff()
    .input(segmentInput.extend({ id }))
    .mutation(({ ctx, input }) => ctx.app.services.segments.update(ctx.actor, input.id, input)),
  remove: staff()
    .input(z.object({ id }))
    .mutation(({ ctx, input }) => ctx.app.services.segments.remove(ctx.actor, input.id)),
  recompute: staff()
    .input(z.object({ id }))
    .mutation(({ ctx, input }) => {
      // Runs in the background; the page polls `get` for progress.
      void ctx.app.services.segments.recompute(input.id);
      return { started: true };
    }),
  createStatic: staff()
    .input(z.object({ name: z.string().trim().min(1).max(120), description: z.string().trim().max(500).optional(), leadIds: z.array(z.string().min(1).max(64)).max(10_000).optional() }))
    .mutation(({ ctx, input }) => ctx.app.services.segments.createStatic(ctx.actor, input)),
  addToStatic: staff()
    .input(z.object({ id, leadIds }))
    .mutation(({ ctx, input }) => ctx.app.services.segments.addToStatic(ctx.actor, input.id, input.leadIds)),
  /** The lead list's filters, as the list itself takes them. */
  addFromLeadList: staff()
    .input(z.object({ id, query: leadListQuerySchema }))
    .mutation(({ ctx, input }) => ctx.app.services.segments.addLeadQueryToStatic(ctx.actor, input.id, input.query)),
  removeFromStatic: staff()
    .input(z.object({ id, leadIds }))
    .mutation(({ ctx, input }) => ctx.app.services.segments.removeFromStatic(ctx.actor, input.id, input.leadIds)),
  importCsv: staff()
    .input(z.object({ id, csv: z.string().min(1).max(20_000_000) }))
    .mutation(({ ctx, input }) => ctx.app.services.segments.importStaticCsv(ctx.actor, input.id, input.csv)),
  startFlow: staff()
    .input(z.object({ id, slug: z.string().min(1).max(100) }))
    .mutation(({ ctx, input }) => ctx.app.services.segments.startFlow(ctx.actor, input.id, input.slug))
});
