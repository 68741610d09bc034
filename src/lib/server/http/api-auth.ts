import type { App } from '../app';
import type { Actor } from '../services/deps';
import { ApiError } from './json-response';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const CHALLENGE = { 'www-authenticate': 'Bearer realm="nurture"' };

/**
 * `Authorization: Bearer <key>` for the public REST API. A missing, unknown or revoked key gets the
 * same 401, so the answer does not tell a prober which keys exist.
 */
export async function authenticateApiKey(app: App, authorization: string | undefined): Promise<Actor> {
  const match = authorization ? BEARER.exec(authorization) : null;
  if (!match) throw new ApiError('unauthorized', 'Send an API key as "Authorization: Bearer <key>"', undefined, CHALLENGE);
  const key = await app.services.apiKeys.verify(match[1]);
  if (!key) throw new ApiError('unauthorized', 'The API key is unknown or revoked', undefined, CHALLENGE);
  return { id: null, label: `api-key:${key.name}` };
}
