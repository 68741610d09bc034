import { describe, expect, it } from 'vitest';
import { addBusinessMinutes, businessMsBetween, isWorkingTime } from './business-hours';
import { DEFAULT_HANDOFF_SETTINGS } from '../../shared/handoff';

const cal = DEFAULT_HANDOFF_SETTINGS.sla.calendar; // 09:00–18:00 Europe/Moscow (UTC+3), Mon–Fri
// Moscow wall time as a UTC instant (Moscow has no DST: always UTC+3).
const msk = (d: string, hm: string) => Date.parse(`${d}T${hm}:00+03:00`);

describe('business-hours SLA calendar', () => {
  it('adds minutes inside one working day', () => {
    expect(addBusinessMinutes(msk('2026-01-13', '10:15'), 60, cal)).toBe(msk('2026-01-13', '11:15'));
  });

  it('starts counting at opening time when the lead arrives before it', () => {
    expect(addBusinessMinutes(msk('2026-01-13', '06:00'), 60, cal)).toBe(msk('2026-01-13', '10:00'));
  });

  it('carries Friday evening over the weekend to Monday', () => {
    // Fri 16 Jan 17:30: 30 minutes left on Friday, 30 more on Monday 19 Jan.
    expect(addBusinessMinutes(msk('2026-01-16', '17:30'), 60, cal)).toBe(msk('2026-01-19', '09:30'));
    // Arriving on Saturday: the whole hour is Monday's.
    expect(addBusinessMinutes(msk('2026-01-17', '12:00'), 60, cal)).toBe(msk('2026-01-19', '10:00'));
  });

  it('skips holidays', () => {
    const withHoliday = { ...cal, holidays: ['2026-01-19'] };
    expect(addBusinessMinutes(msk('2026-01-16', '17:30'), 60, withHoliday)).toBe(msk('2026-01-20', '09:30'));
  });

  it('honours another time zone and working week', () => {
    const tokyo = { timeZone: 'Asia/Tokyo', days: [1, 2, 3, 4, 5, 6], start: '10:00', end: '12:00', holidays: [] };
    // Sat 17 Jan 11:30 Tokyo is a working day here: 30 min on Saturday, then Monday 10:00 + 90.
    expect(addBusinessMinutes(Date.parse('2026-01-17T11:30:00+09:00'), 120, tokyo)).toBe(Date.parse('2026-01-19T11:30:00+09:00'));
  });

  it('crosses a DST change at the zone\'s wall clock', () => {
    const berlin = { timeZone: 'Europe/Berlin', days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00', holidays: [] };
    // Fri 27 Mar 2026 17:00 CET (+01) → Mon 30 Mar 10:00 CEST (+02), clocks moved on Sunday.
    expect(addBusinessMinutes(Date.parse('2026-03-27T17:00:00+01:00'), 120, berlin)).toBe(Date.parse('2026-03-30T10:00:00+02:00'));
  });

  it('measures business time between two instants', () => {
    expect(businessMsBetween(msk('2026-01-16', '17:00'), msk('2026-01-19', '10:00'), cal)).toBe(2 * 3_600_000);
    expect(businessMsBetween(msk('2026-01-17', '10:00'), msk('2026-01-18', '10:00'), cal)).toBe(0);
  });

  it('knows working time', () => {
    expect(isWorkingTime(msk('2026-01-16', '17:59'), cal)).toBe(true);
    expect(isWorkingTime(msk('2026-01-16', '18:00'), cal)).toBe(false);
    expect(isWorkingTime(msk('2026-01-17', '12:00'), cal)).toBe(false);
  });
});
