import { describe, expect, it } from 'vitest';
import { routeLead, type RoutingRep } from './routing';
import { missingStageFields } from './stage-gates';
import { DEFAULT_HANDOFF_SETTINGS } from '../../shared/handoff';

const rep = (id: string, over: Partial<RoutingRep> = {}): RoutingRep => ({ id, territory: null, specializations: [], open: 0, lastAssignedAt: 0, ...over });
const lead = { region: 'Москва', interest: 'crm' };

describe('routing', () => {
  it('round-robin gives the lead to the longest idle rep', () => {
    const reps = [rep('a', { lastAssignedAt: 50 }), rep('b', { lastAssignedAt: 10 }), rep('c', { lastAssignedAt: 30 })];
    expect(routeLead(lead, reps, { chain: ['round_robin'], capacity: null })).toEqual({ ownerId: 'b', rule: 'round_robin' });
  });

  it('territory matches the lead region, case-insensitively', () => {
    const reps = [rep('a'), rep('b', { territory: ' москва ' })];
    expect(routeLead(lead, reps, { chain: ['territory', 'round_robin'], capacity: null })).toEqual({ ownerId: 'b', rule: 'territory' });
  });

  it('specialization matches the product of interest', () => {
    const reps = [rep('a', { specializations: ['email'] }), rep('b', { specializations: ['CRM'] })];
    expect(routeLead(lead, reps, { chain: ['specialization'], capacity: null })).toEqual({ ownerId: 'b', rule: 'specialization' });
  });

  it('falls back along the chain and says so', () => {
    const reps = [rep('a', { territory: 'Казань', lastAssignedAt: 5 }), rep('b', { lastAssignedAt: 1 })];
    expect(routeLead(lead, reps, { chain: ['territory', 'specialization', 'round_robin'], capacity: null })).toEqual({ ownerId: 'b', rule: 'round_robin (fallback)' });
  });

  it('never exceeds capacity; capacity mode picks the least loaded', () => {
    const reps = [rep('a', { open: 2 }), rep('b', { open: 1, lastAssignedAt: 9 }), rep('c', { open: 3 })];
    expect(routeLead(lead, reps, { chain: ['capacity'], capacity: 3 })).toEqual({ ownerId: 'b', rule: 'capacity' });
    expect(routeLead(lead, [rep('a', { open: 3 })], { chain: ['round_robin'], capacity: 3 })).toEqual({ ownerId: null, rule: 'all reps at capacity' });
  });

  it('skips excluded reps (a reassignment goes to someone else)', () => {
    expect(routeLead(lead, [rep('a'), rep('b', { lastAssignedAt: 1 })], { chain: ['round_robin'], capacity: null }, new Set(['a'])).ownerId).toBe('b');
    expect(routeLead(lead, [], { chain: ['round_robin'], capacity: null })).toEqual({ ownerId: null, rule: 'no reps on shift' });
  });
});

describe('stage gates', () => {
  const req = DEFAULT_HANDOFF_SETTINGS.stageRequirements;
  it('names each missing field', () => {
    expect(missingStageFields('sql', { budget: '1M', need: ' ' }, req).map((i) => i.field)).toEqual(['fields.authority', 'fields.need', 'fields.timing']);
    expect(missingStageFields('customer', { amount: 0 }, req).map((i) => i.field)).toEqual(['fields.date', 'fields.reason']);
    expect(missingStageFields('lead', {}, req)).toEqual([]);
  });
});
