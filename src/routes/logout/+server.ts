import { redirect } from '@sveltejs/kit';
import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { SESSION_COOKIE } from '$lib/server/http/session-cookie';

export const POST: RequestHandler = async ({ cookies }) => {
  const token = cookies.get(SESSION_COOKIE);
  if (token) await getApp().services.auth.signOut(token);
  cookies.delete(SESSION_COOKIE, { path: '/' });
  redirect(303, '/login');
};
