import { CompiledQuery, type Compilable } from 'kysely';
import type { Db } from '../db/database';

/**
 * A Kysely query that is built and compiled once per connection handle and then run with new
 * parameter values, for the engine's hottest statements. Building and compiling a query costs
 * Kysely about as much as SQLite takes to run it (engine bench: ~40 % of a step was query
 * building), and a workflow step runs a dozen of them. The compiled SQL is still Kysely's, so it
 * stays correct for the dialect in use, and it runs through the same connection — inside the
 * caller's open transaction — with the driver's prepared-statement cache underneath.
 *
 * The build function gets placeholder values in place of its arguments; it must pass them
 * straight into the query (no arithmetic on them, no arrays for `in`), since only their slots in
 * the compiled parameter list are kept.
 */
const PLACEHOLDER = '\u0000precompiled:';
let nextQueryId = 0;

/** Compiled queries by handle: the root `Kysely` lives long; a transaction's handle lives for one batch. */
const compiledBy = new WeakMap<object, Map<number, { sql: string; slots: (number | { value: unknown })[] }>>();

export function precompiled<A extends unknown[], R>(arity: A['length'], build: (db: Db, ...args: A) => Compilable<R>) {
  const id = nextQueryId++;
  const placeholders = Array.from({ length: arity }, (_, i) => `${PLACEHOLDER}${i}`) as unknown as A;

  function compiledFor(db: Db) {
    let byId = compiledBy.get(db);
    if (!byId) compiledBy.set(db, (byId = new Map()));
    let c = byId.get(id);
    if (!c) {
      const q = build(db, ...placeholders).compile();
      const slots = q.parameters.map((p) => (typeof p === 'string' && p.startsWith(PLACEHOLDER) ? Number(p.slice(PLACEHOLDER.length)) : { value: p }));
      c = { sql: q.sql, slots };
      byId.set(id, c);
    }
    return c;
  }

  return async (db: Db, ...args: A) => {
    const c = compiledFor(db);
    const params = c.slots.map((s) => (typeof s === 'number' ? args[s] : s.value));
    return db.executeQuery<R>(CompiledQuery.raw(c.sql, params));
  };
}
