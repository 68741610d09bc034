import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { serveApiRequest } from '$lib/server/http/api-web';

/** `POST /api/v1/leads`: see postLead in src/lib/server/http/api-core.ts. */
export const POST: RequestHandler = ({ request, url }) => serveApiRequest(getApp(), request, url.pathname);
