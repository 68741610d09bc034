import { z } from 'zod';
import { allow, anyRole, router } from '../init';
import { scoringRulesInputSchema } from '../../../shared/scoring';

export const scoringRouter = router({
  /** Every role may read the rules: reps see why a lead is hot. */
  rules: anyRole().query(({ ctx }) => ctx.app.services.scoring.rules()),
  /** Admins only; zod names the field of every problem (a threshold outside 0..100, a rule without values). */
  updateRules: allow('admin')
    .input(scoringRulesInputSchema)
    .mutation(({ ctx, input }) => ctx.app.services.scoring.updateRules(ctx.actor, input)),
  leadScores: anyRole()
    .input(z.object({ leadId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => ctx.app.services.scoring.leadScores(input.leadId))
});
