import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { requireRole } from '$lib/server/http/require-role';

export const load: PageServerLoad = async ({ locals, url }) => {
  requireRole(locals.user, 'admin', 'marketer');
  // An id-shaped filter only; anything else shows the whole mailbox.
  const raw = url.searchParams.get('lead') ?? '';
  const leadId = /^[0-9a-f-]{8,64}$/i.test(raw) ? raw : undefined;
  return { leadId: leadId ?? null, messages: await getApp().services.engine.mailboxMessages({ leadId, limit: 200 }) };
};
