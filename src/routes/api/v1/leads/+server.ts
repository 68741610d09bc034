import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { handleApiPost } from '$lib/server/http/api-auth';
import { ApiError, jsonResponse } from '$lib/server/http/json-response';
import { parseApiLead } from '$lib/shared/api';

/**
 * `POST /api/v1/leads`: creates a lead, or updates the one matching by email or phone.
 * 201 `{ id, created: true, merged: false }` or 200 `{ id, created: false, merged: true }`.
 */
export const POST: RequestHandler = ({ request }) => {
  const app = getApp();
  return handleApiPost(app, request, async (actor, body) => {
    const parsed = parseApiLead(body);
    if (!parsed.ok) throw new ApiError('invalid_body', 'The lead has invalid fields', parsed.issues);
    const r = await app.services.capture.capture({
      input: parsed.input,
      source: 'api',
      channelName: parsed.lead.channel,
      touch: parsed.lead.utm,
      actor
    });
    return jsonResponse({ id: r.leadId, created: r.created, merged: r.merged }, r.created ? 201 : 200);
  });
};
