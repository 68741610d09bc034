import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { requireRole } from '$lib/server/http/require-role';
import { templatesOf } from '$lib/server/services/templates.service';

export const load: PageServerLoad = async ({ locals }) => {
  requireRole(locals.user, 'admin', 'marketer');
  return { templates: await templatesOf(getApp()).list() };
};
