import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { requireRole } from '$lib/server/http/require-role';
import { NotFoundError } from '$lib/server/services/deps';

export const load: PageServerLoad = async ({ locals, params }) => {
  requireRole(locals.user, 'admin', 'marketer');
  const designer = await getApp()
    .services.designer.load(params.slug)
    .catch((e) => {
      if (e instanceof NotFoundError) error(404, { message: e.message });
      throw e;
    });
  return { designer };
};
