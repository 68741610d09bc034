import { error } from '@sveltejs/kit';
import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';

/** Every rejected row of an import with its column and reason, as a CSV to fix and re-import. */
export const GET: RequestHandler = async ({ locals, params }) => {
  if (!locals.user) error(401, 'Sign in first');
  if (locals.user.role !== 'admin' && locals.user.role !== 'marketer') error(403, `Your role (${locals.user.role}) may not see imports`);
  const imports = getApp().services.imports;
  const summary = await imports.status(params.id);
  if (!summary) error(404, 'No such import');
  const lines = imports.rejectsCsv(summary.id);
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
  const base = summary.filename.replace(/\.csv$/i, '').replace(/[^\p{L}\p{N}_.-]+/gu, '_') || 'import';
  return new Response(body, {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="rejects.csv"; filename*=UTF-8''${encodeURIComponent(`${base}-rejects.csv`)}`,
      'Cache-Control': 'no-store'
    }
  });
};
