/**
 * Undo and redo over whole flow snapshots (flows are small; a snapshot is simpler than inverse
 * operations and cannot drift). Edits close together from the same source (typing in one field)
 * become one step, so undo does not go back a letter at a time.
 */
export class History<T> {
  past = $state<T[]>([]);
  future = $state<T[]>([]);
  #lastAt = 0;
  #lastSource = '';

  constructor(private limit = 100) {}

  record(before: T, now: number, source = '') {
    const coalesce = source !== '' && source === this.#lastSource && now - this.#lastAt < 800;
    if (!coalesce) this.past = [...this.past.slice(-(this.limit - 1)), before];
    this.future = [];
    this.#lastAt = now;
    this.#lastSource = source;
  }

  undo(current: T): T | undefined {
    const prev = this.past.at(-1);
    if (prev === undefined) return undefined;
    this.past = this.past.slice(0, -1);
    this.future = [current, ...this.future];
    this.#lastSource = '';
    return prev;
  }

  redo(current: T): T | undefined {
    const next = this.future[0];
    if (next === undefined) return undefined;
    this.future = this.future.slice(1);
    this.past = [...this.past, current];
    this.#lastSource = '';
    return next;
  }

  clear() {
    this.past = [];
    this.future = [];
  }
}
