import type { App } from '../app';
import { InputError, type Actor } from '../services/deps';
import { ApiError, errorResponse, readJsonBody, requireJsonContentType } from './json-response';

/**
 * `Authorization: Bearer <key>` for the public REST API. A missing, unknown or revoked key gets the
 * same 401, so the answer does not tell a prober which keys exist.
 */
export async function authenticateApiKey(app: App, request: Request): Promise<Actor> {
  const header = request.headers.get('authorization');
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  const challenge = { 'www-authenticate': 'Bearer realm="nurture"' };
  if (!match) throw new ApiError('unauthorized', 'Send an API key as "Authorization: Bearer <key>"', undefined, challenge);
  const key = await app.services.apiKeys.verify(match[1]);
  if (!key) throw new ApiError('unauthorized', 'The API key is unknown or revoked', undefined, challenge);
  return { id: null, label: `api-key:${key.name}` };
}

/**
 * The pipeline every `POST /api/v1/*` shares, in the order that costs a caller least: the key
 * (nothing is read for a stranger), the media type, the size cap while reading, JSON, then the
 * endpoint's own checks. Refusals come back as JSON; nothing is stored for a refused request.
 */
export async function handleApiPost(
  app: App,
  request: Request,
  handle: (actor: Actor, body: unknown) => Promise<Response>
): Promise<Response> {
  try {
    const actor = await authenticateApiKey(app, request);
    requireJsonContentType(request);
    const body = await readJsonBody(request, app.config.PUBLIC_BODY_LIMIT);
    return await handle(actor, body);
  } catch (e) {
    if (e instanceof ApiError) return errorResponse(e);
    if (e instanceof InputError) return errorResponse(new ApiError('invalid_body', e.message, e.issues));
    throw e;
  }
}
