/**
 * The path part of a page view's url as SQL over an events row alias: no scheme or host, no query
 * or fragment, no trailing slash, lower-cased (ASCII); the site root is '/'. The migration
 * 20261125T1400_segments keeps a frozen copy for its triggers: the two must agree, and
 * tests/integration/segments-stats.test.ts checks this one against what the triggers stored.
 */
export function pagePathSql(alias: string): string {
  const raw = `coalesce(json_extract(${alias}.properties, '$.path'), json_extract(${alias}.properties, '$.url'), json_extract(${alias}.properties, '$.page'), '')`;
  const afterScheme = `substr(${raw}, instr(${raw}, '://') + 3)`;
  const noHost = `(CASE WHEN instr(${raw}, '://') > 0 THEN CASE WHEN instr(${afterScheme}, '/') > 0 THEN substr(${afterScheme}, instr(${afterScheme}, '/')) ELSE '/' END ELSE ${raw} END)`;
  const cut = `CASE WHEN instr(${noHost}, '?') > 0 THEN instr(${noHost}, '?') - 1 WHEN instr(${noHost}, '#') > 0 THEN instr(${noHost}, '#') - 1 ELSE length(${noHost}) END`;
  return `coalesce(nullif(lower(rtrim(substr(${noHost}, 1, ${cut}), '/')), ''), '/')`;
}

/** The same normalization for a path typed into the builder, so "/Pricing/" finds "/pricing". */
export function normalizePagePath(p: string): string {
  let s = p.trim();
  const q = s.search(/[?#]/);
  if (q >= 0) s = s.slice(0, q);
  s = s.replace(/\/+$/, '').replace(/[A-Z]/g, (c) => c.toLowerCase());
  return s || '/';
}
