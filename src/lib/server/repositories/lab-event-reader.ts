import { Worker } from 'node:worker_threads';
import { EVENT_FACTS_SQL } from './scoring-lab.repo';
import { parseEventFacts, type EventFactColumns } from '../scoring/event-facts';

/**
 * Reads a range of the scoring lab's events on a second SQLite connection in a worker thread, so a
 * cold what-if reads (and parses) part of a million events there while the serving thread reads
 * the rest and the leads: on two cores that took the cold what-if under its 2 s target.
 *
 * The worker is plain JavaScript built from parseEventFacts' own source (it has no imports), so it
 * runs the same in the built server, under tsx and under Vitest. Only a database file can be
 * shared between connections: for an in-memory base there is no reader and the lab reads alone.
 */
export interface LabEventReader {
  read(from: number, through: number): Promise<EventFactColumns>;
  close(): Promise<void>;
}

const workerSource = (file: string) => `
const { parentPort } = require('node:worker_threads');
const Database = require('better-sqlite3');
// Bundlers that keep function names wrap nested functions in __name(); the worker needs no names.
var __name = (f) => f;
const parse = ${parseEventFacts.toString()};
const db = new Database(${JSON.stringify(file)}, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const stmt = db.prepare(${JSON.stringify(EVENT_FACTS_SQL)}).pluck();
parentPort.on('message', ({ id, from, through }) => {
  try {
    const c = parse(stmt.get(from, through));
    parentPort.postMessage({ id, columns: c }, [c.lead.buffer, c.type.buffer, c.url.buffer, c.at.buffer, c.machine.buffer, c.adjust.buffer]);
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
`;

export function createLabEventReader(file: string): LabEventReader {
  type Pending = { resolve: (c: EventFactColumns) => void; reject: (e: Error) => void };
  // Each thread with the reads sent to it: a thread that dies fails its own reads only.
  let current: { w: Worker; waiting: Map<number, Pending> } | null = null;
  let seq = 0;

  function start() {
    const w = new Worker(workerSource(file), { eval: true });
    const waiting = new Map<number, Pending>();
    const self = { w, waiting };
    const fail = (e: Error) => {
      for (const p of waiting.values()) p.reject(e);
      waiting.clear();
      if (current === self) current = null;
    };
    w.on('message', (m: { id: number; columns?: EventFactColumns; error?: string }) => {
      const p = waiting.get(m.id);
      waiting.delete(m.id);
      // An idle worker must not keep a script (a bench, a CLI) alive.
      if (!waiting.size) w.unref();
      if (m.columns) p?.resolve(m.columns);
      else p?.reject(new Error(`lab event reader: ${m.error}`));
    });
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`lab event reader exited (${code})`)));
    w.unref();
    return self;
  }

  return {
    read(from, through) {
      const t = (current ??= start());
      const id = ++seq;
      t.w.ref();
      return new Promise((resolve, reject) => {
        t.waiting.set(id, { resolve, reject });
        t.w.postMessage({ id, from, through });
      });
    },
    async close() {
      const t = current;
      current = null;
      if (t) await t.w.terminate();
    }
  };
}
