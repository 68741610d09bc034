import { json } from '@sveltejs/kit';
import { z } from 'zod';
import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';
import { NotFoundError } from '$lib/server/services/deps';
import { localizeErrors } from '$lib/components/forms/submit-errors';
import { touchSchema } from '$lib/shared/lead';
import {
  BodyTooLargeError,
  corsFor,
  formNotFound,
  openCorsHeaders,
  originRefused,
  payloadTooLarge,
  preflight,
  publicRateLimit,
  readLimitedText,
  tooManyRequests
} from '$lib/server/http/public-endpoint';

const bodySchema = z.object({
  fields: z.record(z.string().max(64), z.union([z.string().max(5000), z.boolean()])),
  utm: touchSchema.pick({ utm_source: true, utm_medium: true, utm_campaign: true, utm_term: true, utm_content: true }).optional(),
  page: z.string().max(2000).optional(),
  referrer: z.string().max(2000).optional()
});

/** A submission from embed.js on any permitted site: JSON in, JSON out, CORS per form. */
export const POST: RequestHandler = async ({ params, request, getClientAddress }) => {
  const app = getApp();
  const origin = request.headers.get('origin');
  // Counted before any database work, so a flood costs us as little as possible.
  const rate = publicRateLimit('submit', getClientAddress(), app.config.PUBLIC_RATE_PER_MIN);
  if (!rate.allowed) return tooManyRequests(rate.retryAfterMs, openCorsHeaders(origin));
  const form = await app.services.forms.getPublic(params.slug);
  if (!form) return formNotFound(openCorsHeaders(origin));
  const cors = corsFor(origin, form.allowedOrigins);
  if (!cors.allowed) return originRefused();
  const headers = cors.headers;

  let raw: unknown;
  try {
    raw = JSON.parse(await readLimitedText(request, app.config.PUBLIC_BODY_LIMIT));
  } catch (e) {
    if (e instanceof BodyTooLargeError) return payloadTooLarge(app.config.PUBLIC_BODY_LIMIT, headers);
    return json({ ok: false, error: 'invalid_json', errors: {} }, { status: 400, headers });
  }
  const body = bodySchema.safeParse(raw);
  if (!body.success) {
    const errors = Object.fromEntries(body.error.issues.map((i) => [i.path.join('.') || '(root)', i.message]));
    return json({ ok: false, error: 'invalid_body', errors }, { status: 400, headers });
  }

  try {
    const { fields, utm, page, referrer } = body.data;
    const res = await app.services.forms.submit(params.slug, fields, {
      ip: getClientAddress(),
      userAgent: request.headers.get('user-agent') ?? undefined,
      page,
      referrer,
      touch: utm
    });
    if (!res.ok) return json({ ok: false, errors: localizeErrors(res.codes), codes: res.codes }, { status: 400, headers });
    return json({ ok: true, thankYouText: res.thankYouText, redirectUrl: res.redirectUrl }, { headers });
  } catch (e) {
    if (e instanceof NotFoundError) return formNotFound(headers);
    throw e;
  }
};

export const OPTIONS: RequestHandler = async ({ params, request }) => {
  const form = await getApp().services.forms.getPublic(params.slug);
  return preflight(request.headers.get('origin'), form?.allowedOrigins ?? []);
};
