import type SQLite from 'better-sqlite3';
import type { Db } from '../db/database';

/**
 * Group commit for small SQLite writes that arrive many at a time (API events): calls made in the
 * same event-loop turn are queued and run together, synchronously, in one transaction; each call's
 * promise settles only after that transaction has committed, so an acknowledged write is stored.
 *
 * Why: in WAL mode every commit appends each page it touched to the log. An event touches five
 * b-trees (rowid, primary key, dedupe key and two indexes), so one transaction per event rewrote
 * those pages for every request; shared by a batch they are written once (bench/api.bench.ts).
 *
 * The raw handle is the one connection Kysely also uses, so the batch runs while holding Kysely's
 * connection (db.connection()): no Kysely transaction can be open meanwhile, and nothing else
 * interleaves with the synchronous batch. One item that throws (a constraint) loses only its own
 * statement; the rest of the batch still commits.
 */
export function createSqliteGroupCommit<I, O>(db: Db, sqlite: SQLite.Database, runOne: (item: I) => O, maxBatch = 500): (item: I) => Promise<O> {
  interface Pending {
    item: I;
    resolve(o: O): void;
    reject(e: unknown): void;
  }
  let queue: Pending[] = [];
  let scheduled = false;

  const runBatch = sqlite.transaction((batch: Pending[]) => {
    const outcomes: ({ ok: true; value: O } | { ok: false; error: unknown })[] = [];
    for (const p of batch) {
      try {
        outcomes.push({ ok: true, value: runOne(p.item) });
      } catch (error) {
        // Some errors (disk full, I/O) roll back the whole transaction: then nothing in it counts.
        if (!sqlite.inTransaction) throw error;
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  });

  async function flush() {
    const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue;
    if (batch === queue) queue = [];
    if (queue.length) setImmediate(flush);
    else scheduled = false;
    try {
      const outcomes = await db.connection().execute(async () => {
        if (sqlite.inTransaction) throw new Error('group commit: a transaction is already open on the connection');
        // IMMEDIATE: the batch reads before it writes, and the worker thread writes on its own
        // connection; a deferred BEGIN would fail at once (SQLITE_BUSY) instead of waiting.
        return runBatch.immediate(batch);
      });
      outcomes.forEach((o, i) => (o.ok ? batch[i].resolve(o.value) : batch[i].reject(o.error)));
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
