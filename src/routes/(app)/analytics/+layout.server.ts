import { error } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { requireRole } from '$lib/server/http/require-role';
import { filterQuery, readFilters } from '$lib/components/analytics/filters';

/** Admins, marketers and sales managers; every tab reads the same filters from the URL. */
export const load: LayoutServerLoad = async ({ locals, url }) => {
  const { user } = requireRole(locals.user, 'admin', 'marketer', 'sales');
  if (user.role === 'sales' && !user.isManager) error(403, { message: 'Analytics is for sales managers, marketers and admins' });
  const app = getApp();
  const { input, problem } = readFilters(url.searchParams, app.deps.clock.now());
  return { filters: input, problem, query: filterQuery(input), options: await app.services.analytics.options() };
};
