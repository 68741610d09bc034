import type { App } from '../app';

const USAGE = 'usage: npm run worker [-- --interval <ms>]   (or WORKER_INTERVAL_MS=<ms>)';
const DEFAULT_INTERVAL_MS = 200;

/**
 * `npm run worker`: runs the workflow engine (event dispatch, due timers, the effect outbox) in
 * its own process, for a server started with WORKER=off or for scale-out. It runs until SIGTERM
 * or SIGINT, then lets the round in flight finish, so no step is cut off by a clean stop (a
 * SIGKILL is survived too: every step is one transaction, and effects are keyed). Webhook hosts
 * an admin allowed come from WEBHOOK_ALLOW_HOSTS, read by the app's config like the server's.
 */
export async function run(app: App, args: string[], signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): Promise<number> {
  const interval = parseInterval(args, process.env.WORKER_INTERVAL_MS);
  if (typeof interval === 'string') {
    console.error(interval);
    console.error(USAGE);
    return 2;
  }
  const worker = app.services.engine.startWorker(interval);
  const hosts = app.config.WEBHOOK_ALLOW_HOSTS;
  console.log(
    `[worker] started (pid ${process.pid}, every ${interval} ms when idle, database ${app.config.databasePath}` +
      `${hosts.length ? `, webhook hosts allowed: ${hosts.join(', ')}` : ''})`
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const s of signals) process.once(s, () => resolve(s));
  });
  console.log(`[worker] ${signal}: finishing the round in flight`);
  await worker.stop();
  console.log('[worker] stopped');
  // main.ts closes the app (and with it the database) after the command returns.
  return 0;
}

/** The idle pause between rounds: `--interval <ms>`, `--interval=<ms>` or WORKER_INTERVAL_MS. */
export function parseInterval(args: string[], env: string | undefined): number | string {
  let raw = env;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--interval') raw = args[++i];
    else if (a.startsWith('--interval=')) raw = a.slice('--interval='.length);
    else return `unexpected argument ${a}`;
  }
  if (raw === undefined || raw === '') return DEFAULT_INTERVAL_MS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 10 || n > 60_000) return '--interval must be a whole number of milliseconds from 10 to 60000';
  return n;
}
