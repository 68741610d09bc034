import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';

export const load: PageServerLoad = async ({ parent }) => {
  await parent();
  return { segments: await getApp().services.segments.list() };
};
