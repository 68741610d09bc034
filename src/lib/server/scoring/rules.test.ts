import { describe, expect, it } from 'vitest';
import { cappedPoints, decayedEngagement, engagementRuleMatches, fitRuleMatches, parseCompanySize, type FitFacts } from './rules';
import type { EngagementRule, FitRule } from '../../shared/scoring';

const facts = (f: Partial<FitFacts>): FitFacts => ({ email: null, job_title: null, company_size: null, industry: null, region: null, country: null, city: null, company: null, ...f });
const fit = (r: Partial<FitRule>): FitRule => ({ id: 'r', name: 'r', points: 10, active: true, kind: 'fit', field: 'job_title', op: 'contains_any', values: ['director'], ...r }) as FitRule;

describe('scoring rules', () => {
  it('reads company sizes as their first number', () => {
    expect(parseCompanySize('50-200')).toBe(50);
    expect(parseCompanySize('1 000+ сотрудников')).toBe(1000);
    expect(parseCompanySize('около 300')).toBe(300);
    expect(parseCompanySize('много')).toBeNull();
  });

  it('matches fit rules case-insensitively and never on an empty field', () => {
    expect(fitRuleMatches(fit({}), facts({ job_title: 'Sales Director' }))).toBe(true);
    expect(fitRuleMatches(fit({ op: 'not_equals_any', field: 'email_domain', values: ['gmail.com'] }), facts({}))).toBe(false);
    expect(fitRuleMatches(fit({ op: 'not_equals_any', field: 'email_domain', values: ['gmail.com'] }), facts({ email: 'a@GMAIL.com' }))).toBe(false);
    expect(fitRuleMatches(fit({ op: 'ends_with_any', field: 'email_domain', values: ['.edu', 'student.'] }), facts({ email: 'a@student.msu.ru' }))).toBe(true);
    expect(fitRuleMatches(fit({ op: 'range', field: 'company_size', values: undefined, min: 50, max: 999 }), facts({ company_size: '1000+' }))).toBe(false);
    expect(fitRuleMatches(fit({ active: false }), facts({ job_title: 'director' }))).toBe(false);
  });

  it('matches a page rule by URL text', () => {
    const r: EngagementRule = { id: 'p', name: 'p', points: 15, active: true, kind: 'engagement', eventType: 'page_viewed', urlContains: '/Pricing' };
    expect(engagementRuleMatches(r, 'page_viewed', { url: 'https://x.ru/pricing#a' })).toBe(true);
    expect(engagementRuleMatches(r, 'page_viewed', { url: 'https://x.ru/blog' })).toBe(false);
    expect(engagementRuleMatches(r, 'email_opened', { url: 'https://x.ru/pricing' })).toBe(false);
  });

  it('cuts points to what the cap has left, for negative rules too', () => {
    expect(cappedPoints(5, { points: 15 }, 12)).toBe(3);
    expect(cappedPoints(5, { points: 15 }, 15)).toBe(0);
    expect(cappedPoints(-25, { points: 25 }, -10)).toBe(-15);
    expect(cappedPoints(5, undefined, 100)).toBe(5);
  });

  it('halves engagement every half-life', () => {
    expect(decayedEngagement(40, 30 * 86_400_000, 30)).toBe(20);
    expect(decayedEngagement(40, 60 * 86_400_000, 30)).toBe(10);
    expect(decayedEngagement(40, 0, 30)).toBe(40);
  });
});
