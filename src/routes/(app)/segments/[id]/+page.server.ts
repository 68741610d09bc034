import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { NotFoundError } from '$lib/server/services/deps';

export const load: PageServerLoad = async ({ parent, params }) => {
  await parent();
  try {
    return { segment: await getApp().services.segments.get(params.id) };
  } catch (e) {
    if (e instanceof NotFoundError) error(404, { message: e.message });
    throw e;
  }
};
