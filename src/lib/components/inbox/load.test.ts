import { describe, expect, it } from 'vitest';
import { overloaded } from './load';

const rep = (open: number, capacity: number | null = null, onShift = true) => ({ open, capacity, onShift });

describe('who has too many hand-offs', () => {
  it('is whoever reached the capacity when one is set', () => {
    expect(overloaded(rep(5, 5), [])).toBe(true);
    expect(overloaded(rep(4, 5), [])).toBe(false);
  });

  it('without a capacity, is whoever has half again the average of reps on shift', () => {
    const team = [rep(1), rep(2), rep(6), rep(9, null, false)];
    expect(overloaded(team[2], team)).toBe(true); // average 3
    expect(overloaded(team[1], team)).toBe(false);
    expect(overloaded(rep(2), [rep(0), rep(2)])).toBe(false); // two is never too many
  });
});
