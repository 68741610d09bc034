import { error } from '@sveltejs/kit';
import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { csvResponse } from '$lib/server/http/csv-response';
import { readFilters } from '$lib/components/analytics/filters';
import { EXPORTS } from '$lib/server/analytics/tables';
import { toCsvLine } from '$lib/shared/csv';

/** One table of one view as CSV, with the page's filters; cells that look like formulas are neutralized. */
export const GET: RequestHandler = async ({ locals, url }) => {
  const user = locals.user;
  if (!user) error(401, 'Sign in first');
  if (!(user.role === 'admin' || user.role === 'marketer' || (user.role === 'sales' && user.isManager))) error(403, 'Analytics is for sales managers, marketers and admins');
  const view = url.searchParams.get('view') ?? '';
  const table = url.searchParams.get('table') ?? '';
  const make = Object.hasOwn(EXPORTS, view) && Object.hasOwn(EXPORTS[view], table) ? EXPORTS[view][table] : null;
  if (!make) error(404, 'No such table');
  const app = getApp();
  const { input, problem } = readFilters(url.searchParams, app.deps.clock.now());
  if (problem) error(400, problem === 'end_before_start' ? 'The end date is before the start date' : 'Bad date range');
  const { header, rows } = await make(app.services.analytics, input);
  async function* lines() {
    // A BOM so spreadsheet programs read the Cyrillic names as UTF-8.
    yield `\ufeff${toCsvLine(header)}\r\n`;
    for (const r of rows) yield `${toCsvLine(r)}\r\n`;
  }
  return csvResponse(lines(), `analytics-${view}-${table}-${input.from}-${input.to}.csv`);
};
