import { describe, expect, it } from 'vitest';
import { qualifiedFrom, storedQualified } from './why';

describe('qualifiedFrom', () => {
  it('reads the scores scoring stores with a move into MQL', () => {
    expect(
      qualifiedFrom({
        to: 'mql',
        by: 'scoring',
        scores: { fit: 50, fitThreshold: 40, engagement: 35, engagementThreshold: 30 }
      })
    ).toEqual({ fit: 50, fitThreshold: 40, engagement: 35, engagementThreshold: 30 });
  });

  it('reads the English line of older events and summaries, live and from a lab rescore', () => {
    expect(qualifiedFrom({ to: 'mql', reason: 'fit -5 ≥ 40, engagement 35 ≥ 30' })).toEqual({
      fit: -5,
      fitThreshold: 40,
      engagement: 35,
      engagementThreshold: 30
    });
    expect(storedQualified('rescore after rule change: fit 45 / 40, engagement 31 / 30')).toEqual({
      fit: 45,
      fitThreshold: 40,
      engagement: 31,
      engagementThreshold: 30
    });
    expect(storedQualified({ fit: 1, fitThreshold: 0, engagement: 2, engagementThreshold: 0 })).toMatchObject(
      { fit: 1 }
    );
  });

  it('has nothing to say about other moves', () => {
    expect(
      qualifiedFrom({ to: 'sql', scores: { fit: 1, fitThreshold: 0, engagement: 1, engagementThreshold: 0 } })
    ).toBeNull();
    expect(qualifiedFrom({ to: 'mql', by: 'user' })).toBeNull();
    expect(storedQualified(null)).toBeNull();
  });
});
