import { error, redirect } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { m } from '$lib/paraglide/messages';

/** Admins only: the layout sends strangers to sign in, and anyone else gets a 403 page. */
export const load: PageServerLoad = async ({ locals, url }) => {
  if (!locals.user) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
  if (locals.user.role !== 'admin') error(403, m.apikeys_forbidden());
  const keys = await getApp().services.apiKeys.list();
  return {
    keys: keys.map((k) => ({ id: k.id, name: k.name, prefix: k.prefix, createdAt: k.created_at, lastUsedAt: k.last_used_at, revokedAt: k.revoked_at }))
  };
};
