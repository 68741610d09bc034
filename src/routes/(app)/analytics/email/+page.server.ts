import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';

export const load: PageServerLoad = async ({ parent }) => {
  const { filters, problem } = await parent();
  return { report: problem ? null : await getApp().services.analytics.email(filters) };
};
