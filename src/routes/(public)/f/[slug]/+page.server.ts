import { error, fail, redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { toVisitorForm } from '$lib/server/services/forms.service';
import { NotFoundError } from '$lib/server/services/deps';
import { publicRateLimit } from '$lib/server/http/public-endpoint';
import { localizeErrors } from '$lib/components/forms/submit-errors';
import { m } from '$lib/paraglide/messages';
import { UTM_KEYS, type Touch } from '$lib/shared/lead';

/** The visitor's own page of a form: works as a plain HTML form, enhanced when JS runs. */
export const load: PageServerLoad = async ({ params, request, url }) => {
  const form = await getApp().services.forms.getPublic(params.slug);
  if (!form) error(404, { message: m.forms_public_not_found() });
  // Where the visitor came from; on the POST the browser would only report this page.
  const referer = request.headers.get('referer') ?? '';
  const referrer = referer && !referer.startsWith(url.origin) ? referer.slice(0, 2000) : '';
  return { form: toVisitorForm(form), referrer };
};

function utmFrom(url: URL): Touch {
  const touch: Touch = {};
  for (const k of UTM_KEYS) {
    const v = url.searchParams.get(k)?.trim();
    if (v) touch[k] = v.slice(0, 200);
  }
  return touch;
}

export const actions: Actions = {
  default: async ({ params, request, url, getClientAddress }) => {
    const app = getApp();
    const rate = publicRateLimit('submit', getClientAddress(), app.config.PUBLIC_RATE_PER_MIN);
    if (!rate.allowed) return fail(429, { values: {}, errors: {}, message: m.forms_public_too_many() });

    const data = await request.formData();
    const values: Record<string, string> = {};
    for (const [k, v] of data) if (typeof v === 'string' && !k.startsWith('_')) values[k] = v.slice(0, 5000);
    try {
      const res = await app.services.forms.submit(params.slug, values, {
        ip: getClientAddress(),
        userAgent: request.headers.get('user-agent') ?? undefined,
        page: url.href.slice(0, 2000),
        referrer: String(data.get('_referrer') ?? '').slice(0, 2000) || undefined,
        // The form posts back to its own URL, so the UTM tags the visitor arrived with are still on it.
        touch: utmFrom(url)
      });
      if (!res.ok) return fail(400, { values, errors: localizeErrors(res.codes), message: m.forms_public_fix() });
      if (res.redirectUrl) redirect(303, res.redirectUrl);
      return { success: true, thankYouText: res.thankYouText };
    } catch (e) {
      if (e instanceof NotFoundError) error(404, { message: m.forms_public_not_found() });
      throw e;
    }
  }
};
