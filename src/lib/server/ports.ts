import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** Every side effect tests must control lives behind one of these ports. */
export interface Clock {
  now(): number;
}

export interface Ids {
  newId(): string;
}

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  bytes(n: number): Buffer;
}

export const systemClock: Clock = { now: () => Date.now() };

export const uuidIds: Ids = { newId: () => uuidv7() };

export const cryptoRandom: Random = {
  next: () => randomBytes(4).readUInt32BE() / 2 ** 32,
  bytes: (n) => randomBytes(n)
};

/** A clock tests move by hand, so a three-day wait takes no time. */
export class FakeClock implements Clock {
  constructor(private t = Date.UTC(2026, 0, 12, 9, 0, 0)) {}
  now() {
    return this.t;
  }
  set(t: number) {
    this.t = t;
  }
  advance(ms: number) {
    this.t += ms;
  }
}
