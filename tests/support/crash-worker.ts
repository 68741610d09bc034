/**
 * The worker as the crash test runs it: the real `npm run worker` command in its own process,
 * with one difference — a clock that runs CRASH_CLOCK_SPEED times faster than the wall clock
 * from CRASH_EPOCH, so a one-minute wait passes in a second. Every restarted child computes the
 * same time from the same epoch, so timers written by a killed child fall due in the next one.
 *
 *   CRASH_EPOCH=<ms> CRASH_CLOCK_SPEED=60 DATABASE_URL=<file> node --import tsx tests/support/crash-worker.ts
 */
import { createApp } from '../../src/lib/server/app';
import { loadConfig } from '../../src/lib/server/config';
import { run } from '../../src/lib/server/cli/worker.command';
import { acceleratedClock } from './accelerated-clock';

const epoch = Number(process.env.CRASH_EPOCH);
const speed = Number(process.env.CRASH_CLOCK_SPEED ?? 1);
if (!Number.isFinite(epoch) || !(speed > 0)) {
  console.error('CRASH_EPOCH (ms) and CRASH_CLOCK_SPEED (> 0) are required');
  process.exit(2);
}
const app = await createApp({ config: loadConfig(), clock: acceleratedClock(epoch, speed) });
const code = await run(app, process.argv.slice(2));
await app.close();
process.exit(code);
