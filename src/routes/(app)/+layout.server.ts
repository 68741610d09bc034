import { redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';

export const load: LayoutServerLoad = async ({ locals, url }) => {
  if (!locals.user) {
    if (await getApp().services.auth.needsSetup()) redirect(303, '/setup');
    redirect(303, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  }
  return { user: locals.user };
};
