import { error, fail, redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { m } from '$lib/paraglide/messages';

/**
 * The unsubscribe confirmation. The GET only reads: link scanners fetch every URL in an email, so
 * the page asks and the button POSTs. Under `npm start` that POST (like a mail client's RFC 8058
 * one-click) is answered by the fast path in tracking-node.ts; this action serves `vite dev`.
 */
// Plain HTML, no client-side rendering: the confirmation posts as a normal form, and nothing hydrates over a
// box the reader ticked before the script loaded (hydration set it back; a flaky e2e run showed it).
export const csr = false;

export const load: PageServerLoad = async ({ params }) => {
  const view = await getApp().services.tracking.preferences(params.token);
  if (!view) error(404, { message: m.tracking_not_found() });
  return { token: params.token, email: view.maskedEmail, unsubscribed: view.unsubscribed };
};

export const actions: Actions = {
  default: async ({ params, request }) => {
    const data = await request.formData();
    if (data.get('List-Unsubscribe') !== 'One-Click') return fail(400, {});
    const via = data.get('via') === 'page' ? 'page' : 'one_click';
    if (!(await getApp().services.tracking.unsubscribe(params.token, via))) error(404, { message: m.tracking_not_found() });
    redirect(303, `/u/${params.token}`);
  }
};
