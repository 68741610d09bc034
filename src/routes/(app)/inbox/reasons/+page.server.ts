import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { requireRole } from '$lib/server/http/require-role';

export const load: PageServerLoad = async ({ locals }) => {
  const { user } = requireRole(locals.user, 'admin', 'marketer', 'sales');
  if (user.role === 'sales' && !user.isManager) error(403, { message: 'Reject reasons are for marketing and sales managers' });
  return {};
};
