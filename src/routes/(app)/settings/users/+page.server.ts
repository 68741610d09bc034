import { fail } from '@sveltejs/kit';
import { ZodError } from 'zod';
import type { Actions, PageServerLoad } from './$types';
import { getApp } from '$lib/server/runtime';
import { requireRole } from '$lib/server/http/require-role';
import { ConflictError, InputError, NotFoundError } from '$lib/server/services/deps';
import { parseTags } from '$lib/components/settings/tags';

export const load: PageServerLoad = async ({ locals }) => {
  requireRole(locals.user, 'admin');
  return { users: await getApp().services.auth.listUsers() };
};

const text = (data: FormData, key: string) => String(data.get(key) ?? '').trim();
const ROLES = ['admin', 'marketer', 'sales'] as const;
type Role = (typeof ROLES)[number];
const roleOf = (raw: string): Role => (ROLES as readonly string[]).includes(raw) ? (raw as Role) : ('' as Role);

/** Field -> reason, from either a service refusal or a schema failure. */
function fieldErrors(e: unknown): Record<string, string> | null {
  if (e instanceof InputError) return Object.fromEntries(e.issues.map((i) => [i.field, i.message]));
  if (e instanceof ZodError) return Object.fromEntries(e.issues.map((i) => [i.path.join('.'), i.message]));
  if (e instanceof ConflictError) return { email: 'is taken' };
  return null;
}

/** Routing fields mean something for sales reps only; other roles are saved without them. */
function salesFields(data: FormData, role: Role) {
  const sales = role === 'sales';
  return {
    isManager: sales && data.get('isManager') === 'on',
    territory: sales ? text(data, 'territory') || null : null,
    specializations: sales ? parseTags(text(data, 'specializations')) : []
  };
}

export const actions: Actions = {
  create: async ({ locals, request }) => {
    const { actor } = requireRole(locals.user, 'admin');
    const data = await request.formData();
    const role = roleOf(text(data, 'role'));
    const routing = salesFields(data, role);
    const values = {
      name: text(data, 'name'),
      email: text(data, 'email'),
      role,
      locale: text(data, 'locale') === 'en' ? ('en' as const) : ('ru' as const),
      isManager: routing.isManager,
      territory: routing.territory ?? '',
      specializations: text(data, 'specializations')
    };
    try {
      await getApp().services.auth.createUser(actor, {
        name: values.name,
        email: values.email,
        password: String(data.get('password') ?? ''),
        role,
        locale: values.locale,
        isManager: routing.isManager,
        territory: routing.territory ?? undefined,
        specializations: routing.specializations
      });
    } catch (e) {
      const errors = fieldErrors(e);
      if (errors) return fail(400, { create: { values, errors } });
      throw e;
    }
    return { create: { created: values.email } };
  },

  update: async ({ locals, request }) => {
    const { user: me, actor } = requireRole(locals.user, 'admin');
    const data = await request.formData();
    const id = text(data, 'id');
    const role = roleOf(text(data, 'role'));
    const active = data.get('active') === 'on';
    const password = String(data.get('password') ?? '');
    // An admin who demotes or deactivates themselves could leave the base with no admin at all.
    if (id === me.id && (role !== 'admin' || !active)) return fail(400, { update: { id, errors: { role: 'self_lockout' } } });
    try {
      await getApp().services.auth.updateUser(actor, id, {
        name: text(data, 'name'),
        role,
        active,
        ...salesFields(data, role),
        ...(password ? { password } : {})
      });
    } catch (e) {
      if (e instanceof NotFoundError) return fail(404, { update: { id, errors: { name: e.message } } });
      const errors = fieldErrors(e);
      if (errors) return fail(400, { update: { id, errors } });
      throw e;
    }
    return { update: { id, saved: text(data, 'email') } };
  }
};
