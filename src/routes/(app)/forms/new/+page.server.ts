import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';

export const load: PageServerLoad = async ({ parent }) => {
  await parent();
  return { channels: (await getApp().services.channels.list()).map((c) => ({ id: c.id, name: c.name })) };
};
