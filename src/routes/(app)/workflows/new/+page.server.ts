import type { PageServerLoad } from './$types';
import { requireRole } from '$lib/server/http/require-role';

export const load: PageServerLoad = async ({ locals }) => {
  requireRole(locals.user, 'admin', 'marketer');
  return {};
};
