import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';

export const load: PageServerLoad = async ({ locals }) => {
  if (!locals.user) error(401, 'Sign in first');
  if (locals.user.role !== 'admin' && locals.user.role !== 'marketer') error(403, `Your role (${locals.user.role}) may not import leads`);
  const app = getApp();
  const [imports, channels] = await Promise.all([app.services.imports.list(10), app.services.channels.list()]);
  return { imports, channelNames: channels.map((c) => c.name) };
};
