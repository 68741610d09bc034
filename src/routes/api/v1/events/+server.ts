import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { handleApiPost } from '$lib/server/http/api-auth';
import { ApiError, jsonResponse } from '$lib/server/http/json-response';
import { apiEventSchema, apiIssues } from '$lib/shared/api';

/**
 * `POST /api/v1/events`: `{ email | leadId, type, properties, occurredAt, idempotencyKey }`.
 * 202 `{ eventId, leadId, duplicate }`; a repeated idempotency key stores nothing and answers
 * the first event with `duplicate: true`; an unknown email is kept unmatched (`leadId: null`).
 */
export const POST: RequestHandler = ({ request }) => {
  const app = getApp();
  return handleApiPost(app, request, async (actor, body) => {
    const parsed = apiEventSchema.safeParse(body);
    if (!parsed.success) throw new ApiError('invalid_body', 'The event has invalid fields', apiIssues(parsed.error));
    const r = await app.services.events.ingest(actor, parsed.data);
    return jsonResponse(r, 202);
  });
};
