import { createApp, type App } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { seedDemo, DEMO_USERS } from '../../../db/seeds/demo';
import { loadTemplateFiles } from './services/templates.service';

/**
 * The one app of this server process. Built in the `init` hook before the first request, so
 * `/healthz` answers only once the database is migrated (and seeded on an empty base).
 */
let app: App | undefined;
let starting: Promise<App> | undefined;
let worker: { stop(): Promise<void> } | undefined;

/**
 * scripts/start.js runs the worker in a thread of its own: it loads this same server build with
 * NURTURE_ROLE=worker (that runtime only runs the worker loop) and tells the serving runtime not
 * to run one (NURTURE_WORKER_THREAD=1).
 */
const workerThreadRole = () => process.env.NURTURE_ROLE === 'worker';
const workerInThread = () => process.env.NURTURE_WORKER_THREAD === '1';

export function startRuntime(): Promise<App> {
  starting ??= (async () => {
    let config: Config;
    try {
      config = loadConfig();
    } catch (e) {
      // A bad setting stops start-up with the variable's name, not a stack trace.
      if (e instanceof ConfigError) {
        console.error(`[nurture] ${e.message}`);
        process.exit(1);
      }
      throw e;
    }
    const a = await createApp({ config });
    if (workerThreadRole()) {
      // The serving thread migrated, seeded and loaded the flows before it started this thread.
      worker = a.services.engine.startWorker(undefined, { yieldLock: true });
      app = a;
      return a;
    }
    if (config.SEED === 'demo') {
      const seeded = await seedDemo(a);
      if (seeded) console.log(`[nurture] empty base: seeded demo data (${seeded.leads} leads)`);
    }
    const loaded = await a.services.engine.loadWorkflowsDir(config.WORKFLOWS_DIR, { id: null, label: 'system' });
    if (loaded.length) console.log(`[nurture] published example workflows: ${loaded.join(', ')}`);
    // HTML versions of the shipped templates (beside their text parts) fill in what the flows loaded.
    await loadTemplateFiles(a.deps, config.WORKFLOWS_DIR);
    if (config.WORKER === 'on' || (config.WORKER === 'thread' && !workerInThread())) worker = a.services.engine.startWorker();
    app = a;
    const url = config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;
    const needsSetup = await a.services.auth.needsSetup();
    console.log(`[nurture] database: ${config.databasePath}`);
    console.log(`[nurture] open ${url}`);
    if (needsSetup) console.log('[nurture] no users yet: the first visit asks you to create the first admin');
    else if (config.SEED === 'demo')
      console.log(`[nurture] sign in as ${DEMO_USERS.map((u) => `${u.email} / ${u.password} (${u.role})`).join(', ')}`);
    return a;
  })();
  return starting;
}

export function getApp(): App {
  if (!app) throw new Error('The app is not started yet');
  return app;
}

export async function stopRuntime() {
  const a = app;
  app = undefined;
  await worker?.stop();
  worker = undefined;
  starting = undefined;
  if (a) {
    await a.close();
    console.log('[nurture] stopped; database closed');
  }
}
