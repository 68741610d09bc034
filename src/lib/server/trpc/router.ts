import { router } from './init';
import { leadsRouter } from './routers/leads.router';
import { apiKeysRouter, auditRouter, meRouter, usersRouter } from './routers/admin.router';
import { channelsRouter, formsRouter } from './routers/capture.router';
import { importsRouter } from './routers/imports.router';
import { workflowsRouter } from './routers/workflows.router';
import { templatesRouter } from './routers/templates.router';
import { scoringRouter } from './routers/scoring.router';
import { designerRouter } from './routers/designer.router';
import { flowRuntimeRouter } from './routers/flow-runtime.router';
import { handoffRouter } from './routers/handoff.router';
import { labRouter } from './routers/lab.router';
import { segmentsRouter } from './routers/segments.router';
import { analyticsRouter } from './routers/analytics.router';

export const appRouter = router({
  me: meRouter,
  users: usersRouter,
  apiKeys: apiKeysRouter,
  audit: auditRouter,
  leads: leadsRouter,
  forms: formsRouter,
  channels: channelsRouter,
  imports: importsRouter,
  workflows: workflowsRouter,
  templates: templatesRouter,
  scoring: scoringRouter,
  designer: designerRouter,
  flowRuntime: flowRuntimeRouter,
  handoff: handoffRouter,
  lab: labRouter,
  segments: segmentsRouter,
  analytics: analyticsRouter
});

export type AppRouter = typeof appRouter;
