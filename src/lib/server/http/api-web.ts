import type { App } from '../app';
import { handleApiRequest, type ApiRequest } from './api-core';
import { toResponse } from './json-response';

/**
 * The REST API over the Fetch API's Request/Response, for the SvelteKit routes under
 * src/routes/api/v1 (`vite dev`, `node build`). `npm start` answers the same paths on the raw
 * Node fast path (api-node.ts); both call api-core.ts.
 */
export async function serveApiRequest(app: App, request: Request, pathname: string): Promise<Response> {
  return toResponse(await handleApiRequest(app, fromWebRequest(request, pathname)));
}

function fromWebRequest(request: Request, pathname: string): ApiRequest {
  return {
    method: request.method,
    pathname,
    header: (name) => request.headers.get(name) ?? undefined,
    readBody: (limit) => readCapped(request, limit)
  };
}

export async function readCapped(request: Request, limit: number): Promise<string | null> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Released, not cancelled: cancelling destroys the socket before the 413 is written.
      reader.releaseLock();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
