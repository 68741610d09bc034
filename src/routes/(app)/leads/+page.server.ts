import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { readParams, toListQuery } from '$lib/components/leads/url-query';

/** Rendered on the server so the list works without JS; the filter form just changes the URL. */
export const load: PageServerLoad = async ({ url, locals }) => {
  const { services } = getApp();
  const params = readParams(url.searchParams);
  const [list, users, channels] = await Promise.all([services.leads.list(toListQuery(params)), services.auth.listUsers(), services.channels.list()]);
  return {
    params,
    list,
    owners: users.filter((u) => u.active || u.id === params.owner).map((u) => ({ id: u.id, name: u.name })),
    channels: channels.map((c) => ({ id: c.id, name: c.name })),
    // Segments are the marketers' tool: their filter and "add to a static list" show for them only.
    segments: locals.user && ['admin', 'marketer'].includes(locals.user.role) ? await services.segments.options() : []
  };
};
