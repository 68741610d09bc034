import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { requireRole } from '$lib/server/http/require-role';

export const load: PageServerLoad = async ({ locals }) => {
  requireRole(locals.user, 'admin', 'marketer');
  return { flows: await getApp().services.engine.overview() };
};
