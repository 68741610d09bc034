import { z } from 'zod';
import { anyRole, router } from '../init';

export const scoringRouter = router({
  /** Every role may read the rules: reps see why a lead is hot. */
  rules: anyRole().query(({ ctx }) => ctx.app.services.scoring.rules()),
  // Rules change only through the scoring lab (lab.save): a version, an audit entry and a rescore
  // of every lead, so no save leaves scores computed under other rules.
  leadScores: anyRole()
    .input(z.object({ leadId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => ctx.app.services.scoring.leadScores(input.leadId))
});
