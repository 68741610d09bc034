import { error } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { m } from '$lib/paraglide/messages';

/** Segments are the marketers' tool; the builder's pickers need owners, channels and flows. */
export const load: LayoutServerLoad = async ({ locals }) => {
  if (!locals.user || !['admin', 'marketer'].includes(locals.user.role)) error(403, { message: m.segments_no_access() });
  const { services } = getApp();
  const [users, channels, flows] = await Promise.all([services.auth.listUsers(), services.channels.list(), services.engine.list()]);
  return {
    owners: users.filter((u) => u.active).map((u) => ({ id: u.id, name: u.name })),
    channels: channels.map((c) => ({ id: c.id, name: c.name })),
    flows: flows.map((f) => ({ id: f.slug, name: f.name }))
  };
};
