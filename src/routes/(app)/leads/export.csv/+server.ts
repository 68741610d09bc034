import { error } from '@sveltejs/kit';
import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { readParams, toListQuery } from '$lib/components/leads/url-query';

/**
 * The filtered list as CSV, streamed page by page. Takes the list page's own query string, so
 * "Export CSV" downloads exactly what the user sees (all pages of it).
 */
export const GET: RequestHandler = async ({ locals, url }) => {
  if (!locals.user) error(401, 'Sign in first');
  const query = { ...toListQuery(readParams(url.searchParams)), page: 1 };
  const lines = getApp().services.leads.exportCsv(query);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await lines.return(undefined);
    }
  });
  const stamp = new Date().toISOString().slice(0, 10);
  return new Response(body, {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="leads-${stamp}.csv"`,
      'Cache-Control': 'no-store'
    }
  });
};
