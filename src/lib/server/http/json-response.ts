/**
 * JSON answers for the public REST API (`/api/v1`), as plain data so the same result can be
 * written by SvelteKit (a `Response`) or straight onto node's `ServerResponse`. Every refusal is
 * JSON with a stable `error` code, a human `message` and, for bad input, one `issues` entry per
 * field, so an integration can log exactly what to fix.
 */
export interface FieldIssue {
  field: string;
  message: string;
}

export type ApiErrorCode =
  | 'unauthorized'
  | 'not_found'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'invalid_json'
  | 'invalid_body'
  | 'rate_limited';

const STATUS: Record<ApiErrorCode, number> = {
  unauthorized: 401,
  not_found: 404,
  unsupported_media_type: 415,
  payload_too_large: 413,
  invalid_json: 400,
  invalid_body: 400,
  rate_limited: 429
};

/** A refusal carried up to the pipeline, which turns it into a JSON result. */
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

/** What an API call answers, before any framework turns it into bytes. */
export interface ApiResult {
  status: number;
  headers: Record<string, string>;
  json: unknown;
}

export function jsonResult(json: unknown, status = 200, headers: Record<string, string> = {}): ApiResult {
  // nosniff here too: the raw Node path (api-node.ts) does not pass through the SvelteKit hooks.
  return { status, json, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers } };
}

export function errorResult(e: ApiError): ApiResult {
  const body = e.issues ? { error: e.code, message: e.message, issues: e.issues } : { error: e.code, message: e.message };
  return jsonResult(body, e.status, e.headers);
}

export function toResponse(r: ApiResult): Response {
  return new Response(JSON.stringify(r.json), { status: r.status, headers: r.headers });
}
