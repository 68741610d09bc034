import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { readParams, toListQuery } from '$lib/components/leads/url-query';

/** Rendered on the server so the list works without JS; the filter form just changes the URL. */
export const load: PageServerLoad = async ({ url }) => {
  const { services } = getApp();
  const params = readParams(url.searchParams);
  const [list, users, channels] = await Promise.all([services.leads.list(toListQuery(params)), services.auth.listUsers(), services.channels.list()]);
  return {
    params,
    list,
    owners: users.filter((u) => u.active || u.id === params.owner).map((u) => ({ id: u.id, name: u.name })),
    channels: channels.map((c) => ({ id: c.id, name: c.name }))
  };
};
