import type { Db } from '../db/database';
import type { Clock, Ids, Random } from '../ports';

/** What every service gets: the database and the ports for time, ids and randomness. */
export interface Deps {
  db: Db;
  clock: Clock;
  ids: Ids;
  random: Random;
}

/** Who did something: a signed-in user, an API key, a form, or the system itself. */
export interface Actor {
  id: string | null;
  label: string;
}

export const systemActor: Actor = { id: null, label: 'system' };

/** A refusal the caller can show: names the field (or row and column) and the reason. */
export class InputError extends Error {
  constructor(
    public readonly issues: { field: string; message: string }[],
    message = issues.map((i) => `${i.field}: ${i.message}`).join('; ')
  ) {
    super(message);
  }
}

export class NotFoundError extends Error {}
export class ConflictError extends Error {}
