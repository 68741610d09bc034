import { m } from '$lib/paraglide/messages';

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

/** Details as "key: value" pairs of plain text (the page renders them as text, never as HTML). */
export function detailPairs(details: Record<string, unknown>): { key: string; value: string }[] {
  return Object.entries(details).map(([key, v]) => ({
    key,
    value: v === null || v === undefined ? '—' : Array.isArray(v) ? v.map(String).join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v)
  }));
}
