import { error, redirect } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { NotFoundError } from '$lib/server/services/deps';

export const load: PageServerLoad = async ({ params, url, locals }) => {
  const { services } = getApp();
  const got = await services.leads.get(params.id).catch((e) => {
    if (e instanceof NotFoundError) error(404, 'No such lead');
    throw e;
  });
  // A merged lead lives on in its survivor; old links land there.
  if ('mergedInto' in got) redirect(303, `/leads/${got.mergedInto}${url.search}`);
  const [timeline, users, channels] = await Promise.all([services.leads.timeline(params.id), services.auth.listUsers(), services.channels.list()]);
  const role = locals.user!.role;
  return {
    lead: got.lead,
    timeline,
    users: users.map((u) => ({ id: u.id, name: u.name, active: u.active })),
    channels: channels.map((c) => ({ id: c.id, name: c.name })),
    canMerge: role === 'admin' || role === 'marketer',
    // Flow pages are the marketers' (workflows router): sales reps get no link to a page they cannot open.
    canOpenFlows: role === 'admin' || role === 'marketer',
    canDelete: role === 'admin' || role === 'marketer'
  };
};
