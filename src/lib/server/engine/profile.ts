/**
 * Counters for `npm run bench -- engine`: how many steps the executor took, and, when `timing`
 * is on, how long it spent in XState (`transition`) and in snapshot JSON. The bench adds the time
 * spent inside SQLite itself by wrapping the statements it hands Kysely. Counting is a few integer
 * additions per step, so it stays on; timing costs two `performance.now()` calls per phase and is
 * off unless a bench turns it on.
 */
export const engineProfile = {
  timing: false,
  /** Events fed to an instance (enrollment, a timer, a lead event): one `stepIn` each. */
  steps: 0,
  /** XState `transition()` calls, including the `wf.continue` after each data effect. */
  transitions: 0,
  /** Nodes entered (the path rows written). */
  nodes: 0,
  /** Outbox effects claimed and run by `runOutbox`. */
  effects: 0,
  /** Milliseconds in `resolveState`, `transition`, `initialTransition` and `getPersistedSnapshot`. */
  transitionMs: 0,
  /** Milliseconds parsing and writing snapshots and facts as JSON. */
  jsonMs: 0,
  reset() {
    this.steps = this.transitions = this.nodes = this.effects = 0;
    this.transitionMs = this.jsonMs = 0;
  }
};

/** `performance.now()` when timing is on, else 0: the start mark for `addMs`. */
export const mark = () => (engineProfile.timing ? performance.now() : 0);

export function addMs(bucket: 'transitionMs' | 'jsonMs', since: number) {
  if (engineProfile.timing) engineProfile[bucket] += performance.now() - since;
}
