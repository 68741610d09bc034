import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { requireRole } from '$lib/server/http/require-role';

const AUDIT_PAGE_SIZE = 50;

export const load: PageServerLoad = async ({ locals }) => {
  requireRole(locals.user, 'admin');
  return { first: await getApp().services.audit.page(AUDIT_PAGE_SIZE) };
};
