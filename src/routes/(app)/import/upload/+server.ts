import { error, json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { uploadStoreFor } from '$lib/server/services/import-uploads';
import { InputError } from '$lib/server/services/deps';

/**
 * POST the CSV as the raw request body (name in `X-Filename`, URI-encoded). The body is streamed
 * to DATA_DIR/uploads, so a file of hundreds of megabytes never sits in memory; the answer is the
 * upload id the preview and start procedures take.
 */
export const POST: RequestHandler = async ({ locals, request }) => {
  if (!locals.user) error(401, 'Sign in first');
  if (locals.user.role !== 'admin' && locals.user.role !== 'marketer') error(403, `Your role (${locals.user.role}) may not import leads`);
  if (!request.body) error(400, 'The file is empty');
  let filename = 'upload.csv';
  try {
    filename = decodeURIComponent(request.headers.get('x-filename') ?? filename);
  } catch {
    // A broken name is not worth refusing the file over.
  }
  const app = getApp();
  try {
    const uploads = uploadStoreFor(app);
    const meta = await uploads.save(request.body, filename, locals.user.id, app.deps.clock.now());
    if (meta.size === 0) {
      await uploads.remove(meta.id);
      error(400, 'The file is empty');
    }
    return json({ uploadId: meta.id, filename: meta.filename, size: meta.size }, { status: 201 });
  } catch (e) {
    if (e instanceof InputError) error(413, e.message);
    throw e;
  }
};
