import { fail, redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { InputError } from '$lib/server/services/deps';
import { setSessionCookie } from '$lib/server/http/session-cookie';
import { getLocale } from '$lib/paraglide/runtime';

export const load: PageServerLoad = async () => {
  if (!(await getApp().services.auth.needsSetup())) redirect(303, '/login');
  return {};
};

export const actions: Actions = {
  default: async ({ request, cookies, getClientAddress, url }) => {
    const data = await request.formData();
    const values = {
      name: String(data.get('name') ?? ''),
      email: String(data.get('email') ?? ''),
      password: String(data.get('password') ?? ''),
      locale: getLocale()
    };
    const auth = getApp().services.auth;
    try {
      await auth.setupFirstAdmin(values);
    } catch (e) {
      if (e instanceof InputError)
        return fail(400, { name: values.name, email: values.email, errors: Object.fromEntries(e.issues.map((i) => [i.field, i.message])) });
      throw e;
    }
    const res = await auth.signIn(values.email, values.password, { ip: getClientAddress() });
    if (res) setSessionCookie(cookies, res.token, res.expiresAt, url.protocol === 'https:');
    redirect(303, '/leads');
  }
};
