import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { serveTrackHit, toWebResponse } from '$lib/server/http/tracking-core';

/** The click redirect, only to the stored link. `npm start` answers it on the raw Node fast path (tracking-node.ts); same core. */
export const GET: RequestHandler = async ({ params, request, getClientAddress }) =>
  toWebResponse(await serveTrackHit(getApp(), 'c', params.token, { userAgent: request.headers.get('user-agent'), ip: getClientAddress() }));
