import { error } from '@sveltejs/kit';
import { z } from 'zod';
import type { Actions, PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { m } from '$lib/paraglide/messages';

/** The lead's own preference page, reached from the email footer with a signed token. */
// Plain HTML, no client-side rendering: the preference form posts as a normal form, and nothing hydrates over a
// box the reader ticked before the script loaded (hydration set it back; a flaky e2e run showed it).
export const csr = false;

export const load: PageServerLoad = async ({ params }) => {
  const view = await getApp().services.tracking.preferences(params.token);
  if (!view) error(404, { message: m.tracking_not_found() });
  return { token: params.token, ...view };
};

const choiceSchema = z.object({
  intent: z.enum(['save', 'unsubscribe_all']),
  all: z.boolean(),
  topics: z.array(z.string().max(200)).max(200)
});

export const actions: Actions = {
  default: async ({ params, request }) => {
    const data = await request.formData();
    const parsed = choiceSchema.safeParse({
      intent: data.get('intent') ?? 'save',
      all: data.get('all') === 'on',
      topics: data.getAll('topic').filter((t): t is string => typeof t === 'string')
    });
    if (!parsed.success) error(400, { message: m.tracking_not_found() });
    const { intent, all, topics } = parsed.data;
    const ok = await getApp().services.tracking.savePreferences(params.token, { all: intent === 'save' && all, subscribedTopics: topics });
    if (!ok) error(404, { message: m.tracking_not_found() });
    return { saved: true };
  }
};
