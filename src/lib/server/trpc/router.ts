import { router } from './init';
import { leadsRouter } from './routers/leads.router';
import { apiKeysRouter, auditRouter, meRouter, usersRouter } from './routers/admin.router';
import { channelsRouter, formsRouter } from './routers/capture.router';
import { importsRouter } from './routers/imports.router';
import { workflowsRouter } from './routers/workflows.router';
import { templatesRouter } from './routers/templates.router';
import { scoringRouter } from './routers/scoring.router';

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
  scoring: scoringRouter
});

export type AppRouter = typeof appRouter;
