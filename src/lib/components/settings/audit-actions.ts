import { m } from '$lib/paraglide/messages';
import { roleLabel } from './roles';

/** Audit actions as people say them. An action not listed here (a newer feature) shows its code. */
const ACTIONS: Record<string, () => string> = {
  'user.setup_admin': () => m.audit_action_user_setup_admin(),
  'user.create': () => m.audit_action_user_create(),
  'user.update': () => m.audit_action_user_update(),
  'api_key.create': () => m.audit_action_api_key_create(),
  'api_key.revoke': () => m.audit_action_api_key_revoke(),
  'channel.create': () => m.audit_action_channel_create(),
  'channel.spend_add': () => m.audit_action_channel_spend_add(),
  'channel.spend_delete': () => m.audit_action_channel_spend_delete(),
  'form.create': () => m.audit_action_form_create(),
  'form.update': () => m.audit_action_form_update(),
  'lead.merge': () => m.audit_action_lead_merge(),
  'lead.delete': () => m.audit_action_lead_delete()
};

export function actionLabel(action: string): string {
  return ACTIONS[action]?.() ?? action;
}

/** Detail keys people know by a name; others (newer features) show as stored. */
const KEYS: Record<string, () => string> = {
  name: () => m.users_col_name(),
  email: () => m.users_col_email(),
  role: () => m.users_col_role(),
  territory: () => m.users_col_territory(),
  specializations: () => m.users_col_specializations(),
  isManager: () => m.users_manager_badge(),
  active: () => m.users_status_active(),
  password: () => m.audit_detail_password(),
  amount: () => m.audit_detail_amount(),
  currency: () => m.audit_detail_currency(),
  kind: () => m.channels_field_kind()
};

function shownValue(key: string, v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? m.yes() : m.no();
  if (key === 'role' && typeof v === 'string') return roleLabel(v);
  if (key === 'password' && v === 'changed') return m.audit_detail_changed();
  if (Array.isArray(v)) return v.length ? v.map(String).join(', ') : '—';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Details as "key: value" pairs of plain text (the page renders them as text, never as HTML). */
export function detailPairs(details: Record<string, unknown>): { key: string; value: string }[] {
  return Object.entries(details).map(([key, v]) => ({ key: KEYS[key]?.() ?? key, value: shownValue(key, v) }));
}
