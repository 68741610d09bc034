import { json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { toVisitorForm } from '$lib/server/services/forms.service';
import { m } from '$lib/paraglide/messages';
import { corsFor, formNotFound, openCorsHeaders, originRefused, preflight, publicRateLimit, tooManyRequests } from '$lib/server/http/public-endpoint';

/** The public definition embed.js draws, with the button texts in the visitor's language. */
export const GET: RequestHandler = async ({ params, request, getClientAddress }) => {
  const app = getApp();
  const origin = request.headers.get('origin');
  const rate = publicRateLimit('read', getClientAddress(), app.config.PUBLIC_RATE_PER_MIN);
  if (!rate.allowed) return tooManyRequests(rate.retryAfterMs, openCorsHeaders(origin));
  const form = await app.services.forms.getPublic(params.slug);
  if (!form) return formNotFound(openCorsHeaders(origin));
  const cors = corsFor(origin, form.allowedOrigins);
  if (!cors.allowed) return originRefused();
  return json(
    {
      ...toVisitorForm(form),
      texts: {
        submit: m.forms_public_submit(),
        sending: m.forms_public_sending(),
        failed: m.forms_public_failed(),
        fix: m.forms_public_fix(),
        thanks: m.forms_public_thanks(),
        choose: m.forms_public_choose()
      }
    },
    { headers: { ...cors.headers, 'Cache-Control': 'no-store' } }
  );
};

export const OPTIONS: RequestHandler = async ({ params, request }) => {
  const form = await getApp().services.forms.getPublic(params.slug);
  return preflight(request.headers.get('origin'), form?.allowedOrigins ?? []);
};
