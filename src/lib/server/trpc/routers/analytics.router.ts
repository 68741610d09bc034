import { TRPCError } from '@trpc/server';
import { allow, router } from '../init';
import { analyticsInputSchema } from '../../../components/analytics/filters';

/**
 * Admins, marketers and sales managers read analytics; a rep who is not a manager is refused.
 * The manager check runs after the input is read, so a bad range answers BAD_REQUEST to anyone
 * allowed to ask at all.
 */
const analyticsProcedure = allow('admin', 'marketer', 'sales')
  .input(analyticsInputSchema)
  .use(({ ctx, next }) => {
    if (ctx.user.role === 'sales' && !ctx.user.isManager) throw new TRPCError({ code: 'FORBIDDEN', message: 'Analytics is for sales managers, marketers and admins' });
    return next();
  });

export const analyticsRouter = router({
  overview: analyticsProcedure.query(({ ctx, input }) => ctx.app.services.analytics.overview(input)),
  funnel: analyticsProcedure.query(({ ctx, input }) => ctx.app.services.analytics.funnel(input)),
  channels: analyticsProcedure.query(({ ctx, input }) => ctx.app.services.analytics.channels(input)),
  sales: analyticsProcedure.query(({ ctx, input }) => ctx.app.services.analytics.sales(input)),
  email: analyticsProcedure.query(({ ctx, input }) => ctx.app.services.analytics.email(input)),
  flows: analyticsProcedure.query(({ ctx, input }) => ctx.app.services.analytics.flows(input))
});
