import { describe, expect, it } from 'vitest';
import { byPriority, formatCountdown, formatWaiting, slaState } from './sla';

const MIN = 60_000;

describe('SLA countdown', () => {
  it('counts down to the deadline and flips to breached at zero', () => {
    expect(slaState(0, 0, 60 * MIN)).toEqual({ left: 60 * MIN, breached: false, urgent: false });
    expect(slaState(50 * MIN, 0, 60 * MIN)).toMatchObject({ breached: false, urgent: true });
    expect(slaState(60 * MIN, 0, 60 * MIN)).toMatchObject({ breached: true, urgent: false });
    expect(slaState(61 * MIN, 0, 60 * MIN).left).toBe(-MIN);
  });

  it('trusts the server when it already marked the hand-off breached', () => {
    expect(slaState(0, 0, 60 * MIN, true).breached).toBe(true);
  });

  it('formats hours, minutes and seconds, with days for deadlines past a weekend', () => {
    expect(formatCountdown(45 * MIN + 12_000)).toBe('0:45:12');
    expect(formatCountdown(-(5 * MIN + 3_000))).toBe('0:05:03');
    expect(formatCountdown(2 * 86_400_000 + 3 * 3_600_000, 'дн.')).toBe('2 дн. 3:00:00');
  });

  it('formats waiting time in whole units', () => {
    const u = { d: 'd', h: 'h', min: 'min' };
    expect(formatWaiting(59_000, u)).toBe('0 min');
    expect(formatWaiting(125 * MIN, u)).toBe('2 h 5 min');
    expect(formatWaiting(26 * 60 * MIN, u)).toBe('1 d 2 h');
  });

  it('puts the hottest lead first and, at equal score, the longest waiting', () => {
    const rows = [
      { id: 'a', fit: 10, engagement: 10, assignedAt: 1 },
      { id: 'b', fit: 50, engagement: 40, assignedAt: 5 },
      { id: 'c', fit: 50, engagement: 40, assignedAt: 2 }
    ];
    expect(rows.sort(byPriority).map((r) => r.id)).toEqual(['c', 'b', 'a']);
  });
});
