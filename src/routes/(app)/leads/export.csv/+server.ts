import { error } from '@sveltejs/kit';
import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { csvResponse } from '$lib/server/http/csv-response';
import { readParams, toListQuery } from '$lib/components/leads/url-query';

/**
 * The filtered list as CSV, streamed page by page. Takes the list page's own query string, so
 * "Export CSV" downloads exactly what the user sees (all pages of it).
 */
export const GET: RequestHandler = async ({ locals, url }) => {
  if (!locals.user) error(401, 'Sign in first');
  const query = { ...toListQuery(readParams(url.searchParams)), page: 1 };
  const lines = getApp().services.leads.exportCsv(query);
  const stamp = new Date().toISOString().slice(0, 10);
  return csvResponse(lines, `leads-${stamp}.csv`);
};
