import { error, redirect } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { m } from '$lib/paraglide/messages';

/** Admins only: the lab rescores the whole base. */
export const load: PageServerLoad = async ({ locals, url }) => {
  if (!locals.user) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
  if (locals.user.role !== 'admin') error(403, m.lab_forbidden());
  return { lab: await getApp().services.lab.state() };
};
