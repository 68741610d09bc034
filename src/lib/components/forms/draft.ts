import { CAPTURE_FIELDS } from '$lib/shared/lead';
import type { FIELD_TYPES, FormDefinitionInput, FormField } from '$lib/shared/forms';

/** The builder's editable copy of a form: plain strings the inputs bind to. */
export interface FieldDraft {
  uid: number;
  /** A lead field key, or '' while a custom attribute is chosen. */
  key: string;
  custom: boolean;
  customName: string;
  label: string;
  type: (typeof FIELD_TYPES)[number];
  required: boolean;
  placeholder: string;
  optionsText: string;
}

export interface FormDraft {
  name: string;
  slug: string;
  title: string;
  fields: FieldDraft[];
  consentText: string;
  submitLabel: string;
  thankYouText: string;
  redirectUrl: string;
  channelId: string;
  originsText: string;
  active: boolean;
}

let nextUid = 1;

export function fieldDraft(f: Partial<FormField> & { key: string }): FieldDraft {
  const custom = f.key.startsWith('attr:') || !(CAPTURE_FIELDS as readonly string[]).includes(f.key);
  return {
    uid: nextUid++,
    key: custom ? '' : f.key,
    custom,
    customName: custom ? f.key.replace(/^attr:/, '') : '',
    label: f.label ?? '',
    type: f.type ?? 'text',
    required: f.required ?? false,
    placeholder: f.placeholder ?? '',
    optionsText: (f.options ?? []).join('\n')
  };
}

export function emptyDraft(): FormDraft {
  return {
    name: '',
    slug: '',
    title: '',
    fields: [],
    consentText: '',
    submitLabel: '',
    thankYouText: '',
    redirectUrl: '',
    channelId: '',
    originsText: '',
    active: true
  };
}

export function draftFromForm(f: {
  name: string;
  slug: string;
  title: string;
  fields: FormField[];
  consentText: string | null;
  submitLabel: string | null;
  thankYouText: string | null;
  redirectUrl: string | null;
  channelId: string | null;
  allowedOrigins: string[];
  active: boolean;
}): FormDraft {
  return {
    name: f.name,
    slug: f.slug,
    title: f.title,
    fields: f.fields.map(fieldDraft),
    consentText: f.consentText ?? '',
    submitLabel: f.submitLabel ?? '',
    thankYouText: f.thankYouText ?? '',
    redirectUrl: f.redirectUrl ?? '',
    channelId: f.channelId ?? '',
    originsText: f.allowedOrigins.join('\n'),
    active: f.active
  };
}

const opt = (s: string) => (s.trim() === '' ? undefined : s.trim());
const lines = (s: string) =>
  s
    .split('\n')
    .map((x) => x.trim())
    .filter(Boolean);

export function fieldKeyOf(f: FieldDraft): string {
  return f.custom ? `attr:${f.customName.trim()}` : f.key;
}

export function toFormField(f: FieldDraft): FormField {
  return {
    key: fieldKeyOf(f) as FormField['key'],
    label: f.label,
    type: f.type,
    required: f.required,
    placeholder: opt(f.placeholder),
    options: f.type === 'select' ? lines(f.optionsText) : undefined
  };
}

/** What the server checks: empty inputs become "not set", never empty strings. */
export function toDefinition(d: FormDraft): FormDefinitionInput {
  return {
    name: d.name,
    slug: opt(d.slug),
    title: d.title,
    fields: d.fields.map(toFormField),
    consentText: opt(d.consentText),
    submitLabel: opt(d.submitLabel),
    thankYouText: opt(d.thankYouText),
    redirectUrl: opt(d.redirectUrl),
    channelId: opt(d.channelId) ?? null,
    allowedOrigins: lines(d.originsText),
    active: d.active
  };
}
