import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { authenticateApiKey } from '$lib/server/http/api-auth';
import { readCapped } from '$lib/server/http/api-web';
import { ApiError, errorResult, jsonResult, toResponse } from '$lib/server/http/json-response';
import { bounceReportSchema, createBounceRecorder } from '$lib/server/email/bounces';
import { NotFoundError } from '$lib/server/services/deps';
import { apiIssues } from '$lib/shared/api';

/** A bounce report is a few fields; anything larger is not one. */
const BODY_LIMIT = 8 * 1024;

/**
 * `POST /api/email-webhooks/bounce` with `Authorization: Bearer <API key>` and JSON
 * `{ messageId?, email?, type: 'hard_bounce' | 'soft_bounce' | 'complaint', detail? }`:
 * 200 `{ ok, email, messageId, leadId, suppressed }`; 404 when neither names anything we sent.
 * A repeated report changes nothing (providers retry webhooks).
 */
export const POST: RequestHandler = async ({ request }) => {
  const app = getApp();
  try {
    const actor = await authenticateApiKey(app, request.headers.get('authorization') ?? undefined);
    const type = request.headers.get('content-type')?.split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw new ApiError('unsupported_media_type', 'Content-Type must be application/json');
    const declared = Number(request.headers.get('content-length') ?? NaN);
    const text = declared > BODY_LIMIT ? null : await readCapped(request, BODY_LIMIT);
    if (text === null) throw new ApiError('payload_too_large', `The body is larger than ${BODY_LIMIT} bytes`, undefined, { connection: 'close' });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError('invalid_json', 'The body is not valid JSON');
    }
    const parsed = bounceReportSchema.safeParse(body);
    if (!parsed.success) throw new ApiError('invalid_body', 'The report has invalid fields', apiIssues(parsed.error));
    const outcome = await createBounceRecorder(app.deps).record(parsed.data, actor.label);
    return toResponse(jsonResult({ ok: true, ...outcome }));
  } catch (e) {
    if (e instanceof ApiError) return toResponse(errorResult(e));
    if (e instanceof NotFoundError) return toResponse(errorResult(new ApiError('not_found', e.message)));
    throw e;
  }
};
