import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { requireRole } from '$lib/server/http/require-role';
import { templatesOf } from '$lib/server/services/templates.service';

export const load: PageServerLoad = async ({ locals, params }) => {
  requireRole(locals.user, 'admin', 'marketer');
  const t = await templatesOf(getApp()).get(params.slug).catch(() => null);
  if (!t) error(404, { message: 'No such email template' });
  return { template: { slug: t.slug, name: t.name, subject: t.subject, preheader: t.preheader, html: t.html, body: t.body, kind: t.kind === 'transactional' ? ('transactional' as const) : ('marketing' as const), topic: t.topic, locale: t.locale === 'ru' ? ('ru' as const) : ('en' as const) } };
};
