import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { requireRole } from '$lib/server/http/require-role';

export const load: PageServerLoad = async ({ locals }) => {
  const { user } = requireRole(locals.user, 'admin', 'sales');
  if (user.role === 'sales' && !user.isManager) error(403, { message: 'The hand-off board is for sales managers' });
  return {};
};
