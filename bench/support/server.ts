import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Benchmarks start the built app exactly as `npm start` serves it. */
const START_SCRIPT = fileURLToPath(new URL('../../scripts/start.js', import.meta.url));

export interface BenchServer {
  buildDir: string;
  dataDir: string;
  port: number;
  worker: 'thread' | 'on' | 'off';
  nodeArgs?: string[];
  env?: Record<string, string>;
}

/** Starts `scripts/start.js` on a prepared data dir and waits until /healthz answers. */
export async function startServer(s: BenchServer): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, BUILD_DIR: s.buildDir, DATA_DIR: s.dataDir, SEED: 'none', WORKER: s.worker, PORT: String(s.port), HOST: '127.0.0.1', ...s.env };
  delete env.DATABASE_URL; // DATA_DIR decides the file, the same one the bench prepared
  delete env.ORIGIN; // as `npm start` on a plain http://localhost
  const child = spawn(process.execPath, [...(s.nodeArgs ?? []), START_SCRIPT], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${s.port}/healthz`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('server did not become healthy in 30 s');
}

/** User + system CPU of a process so far, from /proc (Linux), in ms. */
export function processCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of stat; after the ") " split they sit at 11 and 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** SIGTERM, then wait: the server finishes open work and closes the database before we count. */
export function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
