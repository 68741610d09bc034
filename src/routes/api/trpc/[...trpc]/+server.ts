import type { RequestHandler } from './$types';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { appRouter } from '$lib/server/trpc/router';
import { getApp } from '$lib/server/runtime';

const handler: RequestHandler = (event) =>
  fetchRequestHandler({
    endpoint: '/api/trpc',
    req: event.request,
    router: appRouter,
    createContext: () => ({ app: getApp(), user: event.locals.user, ip: event.getClientAddress() })
  });

export const GET = handler;
export const POST = handler;
