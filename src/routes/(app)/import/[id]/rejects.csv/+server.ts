import { error } from '@sveltejs/kit';
import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { csvResponse } from '$lib/server/http/csv-response';

/** Every rejected row of an import with its column and reason, as a CSV to fix and re-import. */
export const GET: RequestHandler = async ({ locals, params }) => {
  if (!locals.user) error(401, 'Sign in first');
  if (locals.user.role !== 'admin' && locals.user.role !== 'marketer') error(403, `Your role (${locals.user.role}) may not see imports`);
  const imports = getApp().services.imports;
  const summary = await imports.status(params.id);
  if (!summary) error(404, 'No such import');
  const lines = imports.rejectsCsv(summary.id);
  const base = summary.filename.replace(/\.csv$/i, '').replace(/[^\p{L}\p{N}_.-]+/gu, '_') || 'import';
  return csvResponse(lines, `${base}-rejects.csv`, 'rejects.csv');
};
