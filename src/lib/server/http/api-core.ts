import type { App } from '../app';
import { InputError, type Actor } from '../services/deps';
import { apiEventSchema, apiIssues, parseApiLead } from '../../shared/api';
import { authenticateApiKey } from './api-auth';
import { ApiError, errorResult, jsonResult, type ApiResult } from './json-response';

/**
 * The public REST API (`POST /api/v1/leads`, `POST /api/v1/events`) with no framework in it:
 * a request is a method, a path, a header lookup and a body reader, the answer is plain data.
 * The SvelteKit routes (src/routes/api/v1) and the raw Node fast path (api-node.ts) both call
 * `handleApiRequest`, so there is one implementation of every rule below.
 */
export interface ApiRequest {
  method: string;
  pathname: string;
  /** A request header by its lower-case name. */
  header(name: string): string | undefined;
  /**
   * The body as UTF-8 text, or null as soon as more than `limit` bytes have come in (a chunked
   * body declares no length, so it is counted while read). The caller stops reading at that point.
   */
  readBody(limit: number): Promise<string | null>;
}

type Endpoint = (app: App, actor: Actor, body: unknown) => Promise<ApiResult>;

/**
 * `POST /api/v1/leads`: creates a lead, or updates the one matching by email or phone.
 * 201 `{ id, created: true, merged: false }` or 200 `{ id, created: false, merged: true }`.
 */
const postLead: Endpoint = async (app, actor, body) => {
  const parsed = parseApiLead(body);
  if (!parsed.ok) throw new ApiError('invalid_body', 'The lead has invalid fields', parsed.issues);
  const r = await app.services.capture.capture({ input: parsed.input, source: 'api', channelName: parsed.lead.channel, touch: parsed.lead.utm, actor });
  return jsonResult({ id: r.leadId, created: r.created, merged: r.merged }, r.created ? 201 : 200);
};

/**
 * `POST /api/v1/events`: `{ email | leadId, type, properties, occurredAt, idempotencyKey }`.
 * 202 `{ eventId, leadId, duplicate }`; a repeated idempotency key stores nothing and answers
 * the first event with `duplicate: true`; an unknown email is kept unmatched (`leadId: null`).
 */
const postEvent: Endpoint = async (app, actor, body) => {
  const parsed = apiEventSchema.safeParse(body);
  if (!parsed.success) throw new ApiError('invalid_body', 'The event has invalid fields', apiIssues(parsed.error));
  return jsonResult(await app.services.events.ingest(actor, parsed.data), 202);
};

const POST_ENDPOINTS = new Map<string, Endpoint>([
  ['/api/v1/leads', postLead],
  ['/api/v1/events', postEvent]
]);

/** Whether `handleApiRequest` serves this method and path (anything else is SvelteKit's). */
export function isApiEndpoint(method: string, pathname: string): boolean {
  return method === 'POST' && POST_ENDPOINTS.has(pathname);
}

/**
 * The pipeline every endpoint shares, in the order that costs a caller least: the key (nothing
 * is read for a stranger), the media type, the size cap (declared, then while reading), JSON,
 * then the endpoint's own checks. Refusals come back as JSON results; nothing is stored for a
 * refused request. Unexpected errors are thrown for the caller's 500 handling.
 */
export async function handleApiRequest(app: App, req: ApiRequest): Promise<ApiResult> {
  const endpoint = req.method === 'POST' ? POST_ENDPOINTS.get(req.pathname) : undefined;
  try {
    if (!endpoint) throw new ApiError('not_found', `No endpoint ${req.method} ${req.pathname}`);
    const actor = await authenticateApiKey(app, req.header('authorization'));
    requireJsonContentType(req.header('content-type'));
    const body = await readJsonBody(req, app.config.PUBLIC_BODY_LIMIT);
    return await endpoint(app, actor, body);
  } catch (e) {
    if (e instanceof ApiError) return errorResult(e);
    if (e instanceof InputError) return errorResult(new ApiError('invalid_body', e.message, e.issues));
    throw e;
  }
}

/** Only `application/json` (any charset parameter) is accepted; a form post or text is a 415. */
function requireJsonContentType(header: string | undefined) {
  const type = header?.split(';')[0].trim().toLowerCase();
  if (type !== 'application/json')
    throw new ApiError('unsupported_media_type', `Content-Type must be application/json (got ${type ? `"${type.slice(0, 100)}"` : 'none'})`);
}

async function readJsonBody(req: ApiRequest, limit: number): Promise<unknown> {
  // `Connection: close` ends the socket once the 413 is out, so the unread rest is never taken in.
  const tooLarge = () => new ApiError('payload_too_large', `The body is larger than ${limit} bytes`, undefined, { connection: 'close' });
  if (Number(req.header('content-length') ?? NaN) > limit) throw tooLarge();
  const text = await req.readBody(limit);
  if (text === null) throw tooLarge();
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError('invalid_json', `The body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}
