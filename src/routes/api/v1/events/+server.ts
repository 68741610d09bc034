import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { serveApiRequest } from '$lib/server/http/api-web';

/** `POST /api/v1/events`: see postEvent in src/lib/server/http/api-core.ts. */
export const POST: RequestHandler = ({ request, url }) => serveApiRequest(getApp(), request, url.pathname);
