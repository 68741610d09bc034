import { describe, expect, it } from 'vitest';
import { addDays, dayOf, dayStartMs, parseDay, preset, rangeMs } from './date-range';

describe('calendar days in Moscow', () => {
  it('parses real days only', () => {
    expect(parseDay('2025-11-30')).toEqual({ y: 2025, m: 11, d: 30 });
    expect(parseDay('2025-02-29')).toBeNull();
    expect(parseDay('30.11.2025')).toBeNull();
    expect(parseDay('')).toBeNull();
  });

  it('starts a day at Moscow midnight (UTC+3) and ends an inclusive range at the next one', () => {
    expect(dayStartMs({ y: 2025, m: 11, d: 1 })).toBe(Date.UTC(2025, 9, 31, 21));
    expect(rangeMs({ y: 2025, m: 11, d: 1 }, { y: 2025, m: 11, d: 30 })).toEqual({ from: Date.UTC(2025, 9, 31, 21), to: Date.UTC(2025, 10, 30, 21) });
    expect(rangeMs({ y: 2025, m: 11, d: 5 }, { y: 2025, m: 11, d: 5 })?.to).toBe(Date.UTC(2025, 10, 5, 21));
    expect(rangeMs({ y: 2025, m: 11, d: 5 }, { y: 2025, m: 11, d: 4 })).toBeNull();
    // 22:30 UTC on 30 Nov is already 1 Dec in Moscow.
    expect(dayOf(Date.UTC(2025, 10, 30, 22, 30))).toEqual({ y: 2025, m: 12, d: 1 });
    expect(addDays({ y: 2024, m: 2, d: 28 }, 1)).toEqual({ y: 2024, m: 2, d: 29 });
  });

  it('offers this month, last month and the last 90 days', () => {
    const now = Date.UTC(2026, 0, 12, 9);
    expect(preset('this_month', now)).toEqual({ from: { y: 2026, m: 1, d: 1 }, to: { y: 2026, m: 1, d: 31 } });
    expect(preset('last_month', now)).toEqual({ from: { y: 2025, m: 12, d: 1 }, to: { y: 2025, m: 12, d: 31 } });
    expect(preset('last_90_days', now)).toEqual({ from: { y: 2025, m: 10, d: 15 }, to: { y: 2026, m: 1, d: 12 } });
    expect(preset('this_month', Date.UTC(2025, 11, 31, 12))).toEqual({ from: { y: 2025, m: 12, d: 1 }, to: { y: 2025, m: 12, d: 31 } });
  });
});
