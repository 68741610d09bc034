import { z } from 'zod';
import { allow, router } from '../init';
import { triggerSchema, workflowSchema } from '../../../shared/workflow';

/** Drawing flows is the marketers' job; admins may too. */
const designers = () => allow('admin', 'marketer');
const slug = workflowSchema.shape.slug;
/** Drafts may be half-built, so they arrive unchecked; the validator names every problem by path. */
const definition = z.unknown().refine((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'a workflow definition');

export const designerRouter = router({
  /** The flow, its draft (or the live definition when there is none yet) and the templates it may send. */
  load: designers()
    .input(z.object({ slug }))
    .query(({ ctx, input }) => ctx.app.services.designer.load(input.slug)),
  /** An empty flow: name, address and trigger; the designer opens on it. */
  create: designers()
    .input(z.object({ name: z.string().trim().min(1).max(200), slug, trigger: triggerSchema }))
    .mutation(({ ctx, input }) => ctx.app.services.designer.create(ctx.actor, input)),
  /** Saves the draft if nobody saved since `baseRevision`; CONFLICT names who did and when. */
  saveDraft: designers()
    .input(z.object({ slug, definition, baseRevision: z.number().int().min(0) }))
    .mutation(({ ctx, input }) => ctx.app.services.designer.saveDraft(ctx.actor, input.slug, input.definition, input.baseRevision)),
  /** Problems (with real template compile results) and every path from trigger to end. A mutation: a flow is too long for a query string. */
  check: designers()
    .input(z.object({ slug, definition }))
    .mutation(({ ctx, input }) => ctx.app.services.designer.check(input.slug, input.definition))
});
