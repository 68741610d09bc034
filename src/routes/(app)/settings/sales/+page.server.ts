import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { requireRole } from '$lib/server/http/require-role';

export const load: PageServerLoad = async ({ locals }) => {
  requireRole(locals.user, 'admin');
  const { services } = getApp();
  const [settings, users] = await Promise.all([services.handoff.settings(), services.auth.listUsers()]);
  const reps = users.filter((u) => u.role === 'sales' && u.active).map((u) => ({ id: u.id, name: u.name, territory: u.territory, specializations: u.specializations }));
  return { settings, reps };
};
