import { fail, redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { ThrottledError } from '$lib/server/services/auth.service';
import { setSessionCookie } from '$lib/server/http/session-cookie';

/** Only same-site paths, so `?next=` cannot send a signed-in user elsewhere. */
function safeNext(next: string | null) {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/leads';
}

export const load: PageServerLoad = async ({ locals, url }) => {
  if (locals.user) redirect(303, safeNext(url.searchParams.get('next')));
  if (await getApp().services.auth.needsSetup()) redirect(303, '/setup');
  return {};
};

export const actions: Actions = {
  default: async ({ request, cookies, getClientAddress, url }) => {
    const data = await request.formData();
    const email = String(data.get('email') ?? '').slice(0, 254);
    const password = String(data.get('password') ?? '').slice(0, 200);
    try {
      const res = await getApp().services.auth.signIn(email, password, {
        ip: getClientAddress(),
        userAgent: request.headers.get('user-agent') ?? undefined
      });
      if (!res) return fail(400, { email, error: 'failed' as const });
      setSessionCookie(cookies, res.token, res.expiresAt, url.protocol === 'https:');
      cookies.set('PARAGLIDE_LOCALE', res.user.locale, { path: '/', httpOnly: false, sameSite: 'lax', maxAge: 34560000 });
    } catch (e) {
      if (e instanceof ThrottledError)
        return fail(429, { email, error: 'throttled' as const, minutes: Math.ceil(e.retryAfterMs / 60000) });
      throw e;
    }
    redirect(303, safeNext(url.searchParams.get('next')));
  }
};
