import { describe, expect, it } from 'vitest';
import { neutralizeCell, toCsvLine } from './csv';

describe('CSV export cells', () => {
  it('neutralizes formula starters but keeps signed numbers and phones', () => {
    expect(neutralizeCell('=HYPERLINK("http://x","y")')).toBe(`'=HYPERLINK("http://x","y")`);
    expect(neutralizeCell('@SUM(A1)')).toBe(`'@SUM(A1)`);
    expect(neutralizeCell('+cmd|calc')).toBe(`'+cmd|calc`);
    expect(neutralizeCell('+79161234567')).toBe('+79161234567');
    expect(neutralizeCell('-42')).toBe('-42');
    expect(neutralizeCell('Иван')).toBe('Иван');
  });
  it('quotes cells with separators, quotes and newlines', () => {
    expect(toCsvLine(['a;b', 'say "hi"', 'x\ny', null])).toBe('"a;b","say ""hi""","x\ny",');
  });
});
