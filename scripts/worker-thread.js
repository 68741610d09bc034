// The workflow worker's thread (started by scripts/start.js). It loads the same server build; its
// init hook sees NURTURE_ROLE=worker and only runs the worker loop on its own database connection.
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

await import(path.join(workerData.buildDir, 'handler.js'));
parentPort.on('message', async (msg) => {
  if (msg !== 'stop') return;
  // Finishes the round in progress, then closes this thread's connection.
  await globalThis.__nurtureStop?.();
  process.exit(0);
});
