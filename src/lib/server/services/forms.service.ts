import { formsRepo } from '../repositories/forms.repo';
import { auditRepo } from '../repositories/audit.repo';
import { parseJson } from '../repositories/json';
import type { FormsTable } from '../db/schema';
import { formDefinitionSchema, HONEYPOT_FIELD, type FormDefinition, type FormDefinitionInput, type FormField, type SubmitErrorCode, type VisitorForm } from '../../shared/forms';
import { leadInputSchema, TEXT_FIELDS, UTM_KEYS, type LeadInput, type Touch, type UtmKey } from '../../shared/lead';
import type { CaptureService } from './capture.service';
import { InputError, NotFoundError, type Actor, type Deps } from './deps';

export interface PublicForm {
  id: string;
  slug: string;
  title: string;
  fields: FormField[];
  consentText: string | null;
  submitLabel: string | null;
  thankYouText: string | null;
  redirectUrl: string | null;
  allowedOrigins: string[];
  active: boolean;
}

export function toPublicForm(r: FormsTable): PublicForm {
  return {
    id: r.id,
    slug: r.slug,
    title: r.title,
    fields: parseJson<FormField[]>(r.fields, []),
    consentText: r.consent_text,
    submitLabel: r.submit_label,
    thankYouText: r.thank_you_text,
    redirectUrl: r.redirect_url,
    allowedOrigins: parseJson<string[]>(r.allowed_origins, []),
    active: !!r.active
  };
}

export function toVisitorForm(f: PublicForm): VisitorForm {
  return { slug: f.slug, title: f.title, fields: f.fields, consentText: f.consentText, submitLabel: f.submitLabel, honeypot: HONEYPOT_FIELD };
}

export interface SubmitMeta {
  ip: string;
  userAgent?: string;
  page?: string;
  referrer?: string;
  touch?: Touch;
}

export type SubmitResult =
  | { ok: true; leadId: string | null; thankYouText: string | null; redirectUrl: string | null }
  | { ok: false; errors: Record<string, string>; codes: Record<string, SubmitErrorCode> };

function slugify(s: string) {
  const translit: Record<string, string> = { а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'h', ц: 'c', ч: 'ch', ш: 'sh', щ: 'sch', ы: 'y', э: 'e', ю: 'yu', я: 'ya' };
  const base = s
    .toLowerCase()
    .replace(/[а-яё]/g, (c) => translit[c] ?? '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return base.length >= 2 ? base : 'form';
}

/** The stored columns of a validated definition, shared by create and update. */
function columnsOf(f: FormDefinition, slug: string, now: number) {
  return {
    slug,
    name: f.name,
    title: f.title,
    fields: JSON.stringify(f.fields),
    consent_text: f.consentText ?? null,
    submit_label: f.submitLabel ?? null,
    thank_you_text: f.thankYouText ?? null,
    redirect_url: f.redirectUrl ?? null,
    channel_id: f.channelId ?? null,
    allowed_origins: JSON.stringify(f.allowedOrigins),
    active: f.active ? 1 : 0,
    updated_at: now
  };
}

export function createFormsService(deps: Deps, capture: CaptureService) {
  const { db, clock, ids } = deps;

  function validate(raw: FormDefinitionInput) {
    const p = formDefinitionSchema.safeParse(raw);
    if (!p.success) throw new InputError(p.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
    return p.data;
  }

  return {
    async list() {
      const [rows, counts] = await Promise.all([formsRepo.list(db), formsRepo.submissionCounts(db)]);
      return rows.map((r) => ({ ...toPublicForm(r), name: r.name, channelId: r.channel_id, submissions: counts.get(r.id) ?? 0, createdAt: r.created_at }));
    },

    async get(id: string) {
      const r = await formsRepo.findById(db, id);
      if (!r) throw new NotFoundError('No such form');
      return { ...toPublicForm(r), name: r.name, channelId: r.channel_id };
    },

    async getPublic(slug: string) {
      const r = await formsRepo.findBySlug(db, slug);
      return r && r.active ? toPublicForm(r) : null;
    },

    async create(actor: Actor, raw: FormDefinitionInput) {
      const f = validate(raw);
      let slug = f.slug ?? slugify(f.name);
      if (await formsRepo.findBySlug(db, slug)) {
        if (f.slug) throw new InputError([{ field: 'slug', message: 'is taken by another form' }]);
        slug = `${slug}-${ids.newId().slice(-6)}`;
      }
      const now = clock.now();
      const id = ids.newId();
      await formsRepo.insert(db, { id, ...columnsOf(f, slug, now), created_by: actor.id, created_at: now });
      await auditRepo.record(db, ids.newId(), now, { actorId: actor.id, actorLabel: actor.label, action: 'form.create', entity: 'form', entityId: id, details: { name: f.name, slug } });
      return { id, slug };
    },

    async update(actor: Actor, id: string, raw: FormDefinitionInput) {
      const f = validate(raw);
      const existing = await formsRepo.findById(db, id);
      if (!existing) throw new NotFoundError('No such form');
      const slug = f.slug ?? existing.slug;
      const clash = await formsRepo.findBySlug(db, slug);
      if (clash && clash.id !== id) throw new InputError([{ field: 'slug', message: 'is taken by another form' }]);
      const now = clock.now();
      await formsRepo.update(db, id, columnsOf(f, slug, now));
      await auditRepo.record(db, ids.newId(), now, { actorId: actor.id, actorLabel: actor.label, action: 'form.update', entity: 'form', entityId: id, details: { name: f.name, slug } });
      return { id, slug };
    },

    /**
     * A visitor's submission: checked against the form's own fields, the honeypot answered
     * with a quiet success (so a bot learns nothing), then captured as a lead plus a
     * `form_submitted` event. Errors come back keyed by the form's field keys.
     */
    async submit(slug: string, body: Record<string, unknown>, meta: SubmitMeta): Promise<SubmitResult> {
      const row = await formsRepo.findBySlug(db, slug);
      if (!row || !row.active) throw new NotFoundError('No such form');
      const form = toPublicForm(row);
      const done = { ok: true as const, thankYouText: form.thankYouText, redirectUrl: form.redirectUrl };
      if (typeof body[HONEYPOT_FIELD] === 'string' && body[HONEYPOT_FIELD] !== '') return { ...done, leadId: null };

      const read = readSubmission(form, body);
      if (!read.ok) return read;
      const touch: Touch = { ...(meta.touch ?? {}), ...read.touch, page: meta.page, referrer: meta.referrer };
      const result = await capture.capture({
        input: read.lead,
        source: 'form',
        touch,
        // The form's channel is the default for visitors who arrive without UTM tags; a tagged
        // visit is attributed to its campaign, which is what the marketer paid for.
        channelId: touch.utm_source ? undefined : (row.channel_id ?? undefined),
        actor: { id: null, label: `form:${form.slug}` },
        event: {
          type: 'form_submitted',
          properties: { formId: form.id, formSlug: form.slug, fields: read.submitted, page: meta.page ?? null, userAgent: meta.userAgent?.slice(0, 300) ?? null }
        }
      });
      return { ...done, leadId: result.leadId };
    }
  };
}

const isChecked = (v: unknown) => v === true || v === 'on' || v === 'true';

type Reading =
  | { ok: true; lead: LeadInput; submitted: Record<string, string | boolean>; touch: Touch }
  | { ok: false; errors: Record<string, string>; codes: Record<string, SubmitErrorCode> };

/** Checks one field's raw value against its definition; answers the value or why it is refused. */
function readField(field: FormField, v: unknown): { value: string | boolean } | { code: SubmitErrorCode; message: string } {
  if (v !== undefined && v !== null && typeof v !== 'string' && typeof v !== 'boolean') return { code: 'invalid', message: 'must be text' };
  const value = field.type === 'checkbox' ? isChecked(v) : typeof v === 'string' ? v.trim() : '';
  if (field.required && (value === '' || value === false)) return { code: 'required', message: 'is required' };
  if (typeof value === 'string' && value.length > 2000) return { code: 'too_long', message: 'must be at most 2000 characters' };
  if (field.type === 'select' && value && field.options?.length && !field.options.includes(value as string))
    return { code: 'invalid_choice', message: 'is not one of the choices' };
  return { value };
}

/** Turns a visitor's raw body into lead input, or into errors keyed by the form's field keys. */
function readSubmission(form: PublicForm, body: Record<string, unknown>): Reading {
  const errors: Record<string, string> = {};
  const codes: Record<string, SubmitErrorCode> = {};
  const refuse = (key: string, code: SubmitErrorCode, message: string) => {
    if (errors[key]) return;
    errors[key] = message;
    codes[key] = code;
  };
  const input: Record<string, unknown> = {};
  const attributes: Record<string, string | boolean> = {};
  const submitted: Record<string, string | boolean> = {};
  const touch: Touch = {};
  for (const field of form.fields) {
    const r = readField(field, body[field.key]);
    if ('code' in r) {
      refuse(field.key, r.code, r.message);
      continue;
    }
    if (r.value === '' || r.value === false) continue;
    submitted[field.key] = r.value;
    if (field.key.startsWith('attr:')) attributes[field.key.slice(5)] = r.value;
    else if ((UTM_KEYS as readonly string[]).includes(field.key)) touch[field.key as UtmKey] = String(r.value).slice(0, 200);
    else input[field.key] = r.value;
  }
  if (form.consentText) {
    if (isChecked(body.consent_marketing)) input.consent_marketing = true;
    else refuse('consent_marketing', 'consent', 'please give your consent to continue');
  }
  const parsed = leadInputSchema.safeParse({ ...input, attributes });
  if (!parsed.success) {
    const keys = form.fields.map((f) => f.key as string);
    for (const i of parsed.error.issues) {
      const k = String(i.path[0] ?? 'email');
      // "an email or a phone is required" is reported on whichever of the two the form shows.
      const contactMissing = i.message.includes('email or a phone');
      const key = contactMissing ? (keys.find((x) => x === 'email' || x === 'phone') ?? 'email') : k;
      const code: SubmitErrorCode = contactMissing ? 'contact_required' : k === 'email' ? 'invalid_email' : k === 'phone' ? 'invalid_phone' : 'invalid';
      refuse(key, code, i.message);
    }
  }
  if (Object.keys(errors).length || !parsed.success) {
    if (!Object.keys(errors).length) refuse('email', 'invalid', 'is not valid');
    return { ok: false, errors, codes };
  }
  const lead = parsed.data;
  for (const f of TEXT_FIELDS) if (lead[f] === undefined) delete lead[f];
  return { ok: true, lead, submitted, touch };
}

export type FormsService = ReturnType<typeof createFormsService>;
