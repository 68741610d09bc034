/**
 * Spreadsheet programs run a cell that starts with = + - @ (or a tab / CR) as a formula.
 * Exports prefix such cells with a quote; a plain signed number (a phone like +7 999…) is left alone.
 */
export function neutralizeCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-][\d\s().-]+$/.test(s)) return `'${s}`;
  return s;
}

export function toCsvLine(cells: unknown[], delimiter = ','): string {
  return cells
    .map((c) => {
      const s = neutralizeCell(c);
      return /[",;\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(delimiter);
}
