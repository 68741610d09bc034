import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { requireRole } from '$lib/server/http/require-role';

const AUDIT_PAGE_SIZE = 50;

export const load: PageServerLoad = async ({ locals }) => {
  requireRole(locals.user, 'admin');
  const { audit, auth, channels } = getApp().services;
  const [first, users, channelRows] = await Promise.all([audit.page(AUDIT_PAGE_SIZE), auth.listUsers(), channels.list()]);
  // Entries keep ids only; the page names what they point at when it still exists.
  const subjects: Record<string, string> = {};
  for (const u of users) subjects[`user:${u.id}`] = `${u.name} <${u.email}>`;
  for (const c of channelRows) subjects[`channel:${c.id}`] = c.name;
  return { first, subjects };
};
