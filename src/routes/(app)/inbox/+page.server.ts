import type { PageServerLoad } from './$types';
import { requireRole } from '$lib/server/http/require-role';

export const load: PageServerLoad = async ({ locals }) => {
  const { user } = requireRole(locals.user, 'admin', 'sales');
  const manager = user.role === 'admin' || user.isManager;
  return { canBoard: manager, canReasons: manager };
};
