import { describe, expect, it } from 'vitest';
import { ruleLabel } from './scoring-names';

describe('ruleLabel', () => {
  it('says a shipped rule in the reader language, and a renamed or custom one as its admin named it', () => {
    expect(ruleLabel('eng-click', 'Email link clicked', 'ru')).toBe('Перешёл по ссылке из письма');
    expect(ruleLabel('eng-click', 'Email link clicked', 'en')).toBe('Email link clicked');
    expect(ruleLabel('eng-click', 'Клик по ссылке', 'en')).toBe('Клик по ссылке');
    expect(ruleLabel('my-rule', 'Webinar', 'ru')).toBe('Webinar');
    expect(ruleLabel(null, 'decay', 'ru')).toBe('decay');
  });
});
