/**
 * JSON answers and body reading for the public REST API (`/api/v1`). Every refusal is JSON with
 * a stable `error` code, a human `message` and, for bad input, one `issues` entry per field, so an
 * integration can log exactly what to fix.
 */
export interface FieldIssue {
  field: string;
  message: string;
}

export type ApiErrorCode =
  | 'unauthorized'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'invalid_json'
  | 'invalid_body'
  | 'rate_limited';

const STATUS: Record<ApiErrorCode, number> = {
  unauthorized: 401,
  unsupported_media_type: 415,
  payload_too_large: 413,
  invalid_json: 400,
  invalid_body: 400,
  rate_limited: 429
};

/** A refusal carried up to the route, which turns it into a JSON response. */
export class ApiError extends Error {
  constructor(
    public readonly code: ApiErrorCode,
    message: string,
    public readonly issues?: FieldIssue[],
    public readonly headers: Record<string, string> = {}
  ) {
    super(message);
  }

  get status() {
    return STATUS[this.code];
  }
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }
  });
}

export function errorResponse(e: ApiError): Response {
  const body = e.issues ? { error: e.code, message: e.message, issues: e.issues } : { error: e.code, message: e.message };
  return jsonResponse(body, e.status, e.headers);
}

/** Only `application/json` (any charset parameter) is accepted; a form post or text is a 415. */
export function requireJsonContentType(request: Request) {
  const type = request.headers.get('content-type')?.split(';')[0].trim().toLowerCase();
  if (type !== 'application/json')
    throw new ApiError('unsupported_media_type', `Content-Type must be application/json (got ${type ? `"${type.slice(0, 100)}"` : 'none'})`);
}

/**
 * Reads the body as JSON, refusing more than `limit` bytes. The declared Content-Length is checked
 * first, and the stream is also counted while reading, because a chunked body declares no length.
 */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  // `Connection: close` ends the socket once the 413 is out, so the unread rest is never taken in.
  // (Cancelling the body stream instead would destroy the socket before the answer is written.)
  const tooLarge = () => new ApiError('payload_too_large', `The body is larger than ${limit} bytes`, undefined, { connection: 'close' });
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > limit) throw tooLarge();
  const text = await readCapped(request, limit, tooLarge);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError('invalid_json', `The body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function readCapped(request: Request, limit: number, tooLarge: () => ApiError): Promise<string> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.releaseLock();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
