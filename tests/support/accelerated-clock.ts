import type { Clock } from '../../src/lib/server/ports';

/**
 * Wall time sped up `speed` times from `epoch`: every process that builds one from the same epoch
 * agrees on the time, so a timer written by a killed worker falls due in the one that replaces it.
 */
export function acceleratedClock(epoch: number, speed: number): Clock {
  return { now: () => Math.floor(epoch + (Date.now() - epoch) * speed) };
}
