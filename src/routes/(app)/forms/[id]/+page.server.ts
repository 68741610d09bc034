import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { NotFoundError } from '$lib/server/services/deps';

export const load: PageServerLoad = async ({ parent, params, url }) => {
  await parent();
  const app = getApp();
  try {
    const [form, channels] = await Promise.all([app.services.forms.get(params.id), app.services.channels.list()]);
    return { form, channels: channels.map((c) => ({ id: c.id, name: c.name })), justCreated: url.searchParams.has('created') };
  } catch (e) {
    if (e instanceof NotFoundError) error(404, { message: e.message });
    throw e;
  }
};
