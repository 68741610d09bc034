import { m } from '$lib/paraglide/messages';
import { CAPTURE_FIELDS, type CaptureField } from '$lib/shared/lead';
import type { FIELD_TYPES } from '$lib/shared/forms';

const KEY_LABELS: Partial<Record<CaptureField, () => string>> = {
  email: m.forms_key_email,
  phone: m.forms_key_phone,
  name: m.forms_key_name,
  company: m.forms_key_company,
  job_title: m.forms_key_job_title,
  company_size: m.forms_key_company_size,
  industry: m.forms_key_industry,
  city: m.forms_key_city,
  region: m.forms_key_region,
  country: m.forms_key_country,
  timezone: m.forms_key_timezone,
  consent_marketing: m.forms_key_consent_marketing,
  consent_tracking: m.forms_key_consent_tracking
};

/** The lead fields a form field may fill, with names a marketer reads (UTM keys stay as they are). */
export function captureFieldChoices() {
  return CAPTURE_FIELDS.map((key) => ({ key, label: KEY_LABELS[key]?.() ?? key }));
}

/** A sensible input type for a lead field, so picking "Phone" gives a phone input. */
export function defaultTypeFor(key: string): (typeof FIELD_TYPES)[number] {
  if (key === 'email') return 'email';
  if (key === 'phone') return 'tel';
  if (key === 'consent_marketing' || key === 'consent_tracking') return 'checkbox';
  return 'text';
}

export function defaultLabelFor(key: string): string {
  return KEY_LABELS[key as CaptureField]?.() ?? (key.startsWith('attr:') ? key.slice(5).replace(/_/g, ' ') : key);
}

export function typeLabel(t: (typeof FIELD_TYPES)[number]): string {
  return {
    text: m.forms_type_text,
    email: m.forms_type_email,
    tel: m.forms_type_tel,
    textarea: m.forms_type_textarea,
    select: m.forms_type_select,
    checkbox: m.forms_type_checkbox
  }[t]();
}
