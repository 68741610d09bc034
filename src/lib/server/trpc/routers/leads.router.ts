import { z } from 'zod';
import { allow, anyRole, router } from '../init';
import { leadListQuerySchema } from '../../../shared/lead-query';
import { leadPatchSchema } from '../../services/leads.service';
import { parseLeadInput } from '../../services/capture.service';
import { touchSchema } from '../../../shared/lead';

const id = z.object({ id: z.string().min(1).max(64) });

export const leadsRouter = router({
  list: anyRole()
    .input(leadListQuerySchema)
    .query(({ ctx, input }) => ctx.app.services.leads.list(input)),
  get: anyRole()
    .input(id)
    .query(({ ctx, input }) => ctx.app.services.leads.get(input.id)),
  timeline: anyRole()
    .input(id.extend({ before: z.number().int().optional() }))
    .query(({ ctx, input }) => ctx.app.services.leads.timeline(input.id, input.before)),
  update: anyRole()
    .input(id.extend({ patch: leadPatchSchema }))
    .mutation(({ ctx, input }) => ctx.app.services.leads.update(ctx.actor, input.id, input.patch)),
  /** Manual entry: a call or a walk-in. Goes through the same capture (and dedupe) as every channel. */
  create: anyRole()
    .input(
      z.object({
        lead: z.record(z.string(), z.unknown()),
        channelName: z.string().max(100).optional(),
        touch: touchSchema.optional()
      })
    )
    .mutation(({ ctx, input }) =>
      ctx.app.services.capture.capture({
        input: parseLeadInput(input.lead),
        source: 'manual',
        channelName: input.channelName,
        touch: input.touch,
        actor: ctx.actor
      })
    ),
  merge: allow('admin', 'marketer')
    .input(z.object({ primaryId: z.string().min(1), secondaryId: z.string().min(1) }))
    .mutation(({ ctx, input }) => ctx.app.services.leads.merge(ctx.actor, input.primaryId, input.secondaryId)),
  delete: allow('admin', 'marketer')
    .input(id)
    .mutation(({ ctx, input }) => ctx.app.services.leads.remove(ctx.actor, input.id))
});
