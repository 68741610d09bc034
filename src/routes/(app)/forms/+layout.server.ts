import { error } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { m } from '$lib/paraglide/messages';

/** Forms are the marketers' tool; the base URL is what snippets and hosted links point at. */
export const load: LayoutServerLoad = async ({ locals, url }) => {
  if (!locals.user || !['admin', 'marketer'].includes(locals.user.role)) error(403, { message: m.forms_no_access() });
  return { base: getApp().config.PUBLIC_URL ?? url.origin };
};
