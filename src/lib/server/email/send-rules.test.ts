import { describe, expect, it } from 'vitest';
import { frequencyDecision, leadTimeZone, nextWindowOpen, parseFrequencyCap, parseSendWindow } from './send-rules';

const H = 3_600_000;
const D = 24 * H;
const iso = (t: number) => new Date(t).toISOString();

describe('parseSendWindow', () => {
  it('reads ranges, lists and wrapping ranges', () => {
    const w = parseSendWindow('mon-fri 09:00-18:00');
    expect([...w.days].sort()).toEqual([1, 2, 3, 4, 5]);
    expect([w.start, w.end]).toEqual([540, 1080]);
    expect([...parseSendWindow('fri-mon 10:00-12:30').days].sort()).toEqual([0, 1, 5, 6]);
    expect([...parseSendWindow('Sat,Sun 10:00-14:00').days].sort()).toEqual([0, 6]);
  });

  it('refuses what it cannot read', () => {
    for (const bad of ['mon-fri', 'someday 09:00-10:00', 'mon 18:00-09:00', 'mon 09:75-10:00']) expect(() => parseSendWindow(bad)).toThrow();
  });
});

describe('nextWindowOpen', () => {
  const weekdays = parseSendWindow('mon-fri 09:00-18:00');

  it('sends at once inside the window', () => {
    const tue11Moscow = Date.UTC(2026, 0, 13, 8, 0); // 11:00 MSK
    expect(nextWindowOpen(tue11Moscow, weekdays, 'Europe/Moscow')).toBe(tue11Moscow);
  });

  it('waits for the same evening to pass, in the lead zone', () => {
    // Tuesday 20:00 in Moscow is 03:00 Wednesday in Vladivostok, whose day opens seven hours earlier.
    const t = Date.UTC(2026, 0, 13, 17, 0);
    expect(iso(nextWindowOpen(t, weekdays, 'Europe/Moscow'))).toBe('2026-01-14T06:00:00.000Z');
    expect(iso(nextWindowOpen(t, weekdays, 'Asia/Vladivostok'))).toBe('2026-01-13T23:00:00.000Z');
    expect(nextWindowOpen(t + 6 * H + 1, weekdays, 'Asia/Vladivostok')).toBe(t + 6 * H + 1);
  });

  it('skips the weekend', () => {
    const fri19 = Date.UTC(2026, 0, 16, 16, 0); // Friday 19:00 MSK
    expect(iso(nextWindowOpen(fri19, weekdays, 'Europe/Moscow'))).toBe('2026-01-19T06:00:00.000Z');
  });

  it('keeps 09:00 local across the DST change in New York', () => {
    // US clocks spring forward on Sunday 8 March 2026: Friday 09:00 is 14:00 UTC, Monday 09:00 is 13:00 UTC.
    const friEvening = Date.UTC(2026, 2, 6, 23, 30);
    expect(iso(nextWindowOpen(friEvening, weekdays, 'America/New_York'))).toBe('2026-03-09T13:00:00.000Z');
    const thuEvening = Date.UTC(2026, 2, 5, 23, 30);
    expect(iso(nextWindowOpen(thuEvening, weekdays, 'America/New_York'))).toBe('2026-03-06T14:00:00.000Z');
    // And back in November (fall back on 1 November 2026).
    expect(iso(nextWindowOpen(Date.UTC(2026, 9, 31, 12), weekdays, 'America/New_York'))).toBe('2026-11-02T14:00:00.000Z');
  });

  it('handles a window that starts inside a spring-forward gap', () => {
    const early = parseSendWindow('daily 02:30-04:00');
    // 2:30 does not exist in New York on 8 March 2026; the window opens when the clock reads 3:30.
    expect(iso(nextWindowOpen(Date.UTC(2026, 2, 8, 5, 0), early, 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z');
  });
});

describe('leadTimeZone', () => {
  it('prefers the lead zone, then city, phone country, country name, then the workspace', () => {
    expect(leadTimeZone({ timezone: 'Asia/Tokyo', phone: '+79161234567' })).toBe('Asia/Tokyo');
    expect(leadTimeZone({ timezone: 'Mars/Base', phone: '+79161234567' })).toBe('Europe/Moscow');
    expect(leadTimeZone({ city: 'Новосибирск', phone: '+79161234567' })).toBe('Asia/Novosibirsk');
    expect(leadTimeZone({ phone: '+7 701 123 4567' })).toBe('Asia/Almaty');
    expect(leadTimeZone({ phone: '+1 415 555 0100' })).toBe('America/New_York');
    expect(leadTimeZone({ phone: '+44 20 7946 0958' })).toBe('Europe/London');
    expect(leadTimeZone({ country: 'United Kingdom' })).toBe('Europe/London');
    expect(leadTimeZone({}, 'Europe/Berlin')).toBe('Europe/Berlin');
  });
});

describe('frequency cap', () => {
  const cap = parseFrequencyCap('3/7d');
  const now = Date.UTC(2026, 0, 20);

  it('parses', () => {
    expect(cap).toEqual({ max: 3, periodMs: 7 * D });
    expect(parseFrequencyCap('10/12h')).toEqual({ max: 10, periodMs: 12 * H });
    expect(() => parseFrequencyCap('0/7d')).toThrow();
    expect(() => parseFrequencyCap('3 per week')).toThrow();
  });

  it('lets a send through under the cap, ignoring sends older than the period', () => {
    expect(frequencyDecision([now - 1 * D, now - 2 * D, now - 8 * D], cap, now)).toEqual({ ok: true });
  });

  it('waits until the oldest counted send leaves the period, or skips, as the step says', () => {
    const sent = [now - 6 * D, now - 2 * D, now - 1 * D];
    expect(frequencyDecision(sent, cap, now, 'wait')).toEqual({ waitUntil: now + 1 * D });
    expect(frequencyDecision(sent, cap, now, 'skip')).toEqual({ skip: true });
    expect(frequencyDecision(sent, cap, now + D, 'wait')).toEqual({ ok: true });
  });
});
