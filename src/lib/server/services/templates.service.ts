import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { templatesRepo, type TemplateRow } from '../repositories/templates.repo';
import type { LeadsTable } from '../db/schema';
import { auditRepo } from '../repositories/audit.repo';
import { leadScope, renderLine, renderTemplate, sampleScope, validateTemplate, type RenderScope, type TemplateIssue } from '../email/render';
import type { Workspace } from '../email/layout';
import type { RenderedEmail } from '../email/contract';
import { InputError, NotFoundError, ConflictError, type Actor, type Deps } from './deps';
import type { Clock, Ids } from '../ports';

const noBreaks = (s: string) => !/[\r\n]/.test(s);

export const templateSlug = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and dashes');

/** A template as the editor sends it. Names and subjects are one line: they end up in headers. */
export const templateInput = z.object({
  slug: templateSlug,
  name: z.string().trim().min(1).max(200).refine(noBreaks, 'one line'),
  subject: z.string().trim().min(1).max(500).refine(noBreaks, 'one line: line breaks would start a new mail header'),
  preheader: z.string().max(300).refine(noBreaks, 'one line').nullable().default(null),
  html: z.string().max(200_000).nullable().default(null),
  body: z.string().max(100_000).default(''),
  kind: z.enum(['marketing', 'transactional']).default('marketing'),
  topic: z.string().trim().max(60).regex(/^[a-z0-9_-]*$/, 'lowercase letters, digits, - and _').nullable().default(null),
  locale: z.enum(['en', 'ru']).default('en')
});
export type TemplateInput = z.infer<typeof templateInput>;

/** The parts of a template that render: what the editor previews before saving. */
export const templateDraft = templateInput.pick({ subject: true, preheader: true, html: true, body: true, kind: true, locale: true }).extend({
  subject: z.string().max(500)
});
export type TemplateDraft = z.infer<typeof templateDraft>;

export function workspaceOf(config: Pick<Config, 'WORKSPACE_NAME' | 'WORKSPACE_ADDRESS'>): Workspace {
  return { name: config.WORKSPACE_NAME, address: config.WORKSPACE_ADDRESS };
}

/** Where unsubscribe and preference links point; the tracking stage supplies signed ones per message. */
export interface ScopeLinks {
  unsubscribe_url: string;
  preferences_url: string;
}

/** The lead (with its owner) as a template sees it; a sample lead when `leadId` is null. */
export async function buildRenderScope(db: Db, leadId: string | null, workspace: Workspace, links: ScopeLinks): Promise<RenderScope> {
  if (!leadId) return { ...sampleScope(workspace), ...links };
  const lead = await templatesRepo.leadById(db, leadId);
  if (!lead) throw new NotFoundError('No such lead');
  return scopeForLead(db, lead, workspace, links);
}

/** The scope for a lead row the caller already holds (the send path has just read it). */
export async function scopeForLead(db: Db, lead: LeadsTable, workspace: Workspace, links: ScopeLinks): Promise<RenderScope> {
  const owner = lead.owner_id ? await templatesRepo.userById(db, lead.owner_id) : undefined;
  return { lead: leadScope({ ...lead }), owner: owner ?? null, workspace, ...links };
}

/** Renders a stored template for a lead. Throws TemplateError. */
export async function renderStoredTemplate(db: Db, slug: string, leadId: string | null, workspace: Workspace, links: ScopeLinks): Promise<RenderedEmail & { template: TemplateRow }> {
  const template = await templatesRepo.bySlug(db, slug);
  if (!template) throw new NotFoundError(`email template "${slug}" does not exist`);
  const rendered = renderTemplate(template, await buildRenderScope(db, leadId, workspace, links));
  return { ...rendered, template };
}

/** Refuses (InputError) templates that are missing or have a Liquid error: call when publishing a flow. */
export async function assertTemplatesUsable(db: Db, slugs: string[]): Promise<void> {
  const wanted = [...new Set(slugs)];
  const found = new Map((await templatesRepo.bySlugs(db, wanted)).map((t) => [t.slug, t]));
  const issues: { field: string; message: string }[] = [];
  for (const slug of wanted) {
    const t = found.get(slug);
    if (!t) issues.push({ field: `templates.${slug}`, message: 'this email template does not exist' });
    else for (const i of validateTemplate(t)) issues.push({ field: `templates.${slug}.${i.field}`, message: `line ${i.line}, column ${i.column}: ${i.message}` });
  }
  if (issues.length) throw new InputError(issues);
}

/** Template slugs each published flow's send_email steps use. */
export function templatesUsedBy(definition: string): string[] {
  try {
    const nodes = (JSON.parse(definition) as { nodes?: Record<string, { kind?: string; template?: string }> }).nodes ?? {};
    return Object.values(nodes).flatMap((n) => (n.kind === 'send_email' && n.template ? [n.template] : []));
  } catch {
    return [];
  }
}

/** Sends a rendered test through the email channel (app.ts passes it; without it tests stay in the Mailbox). */
export type TestSender = (t: { to: string; subject: string; html: string; text: string; leadId: string | null; template: string | null }) => Promise<{ id: string; status: string; detail?: string }>;

export function createTemplatesService(deps: Deps, config: Config, sendTestEmail?: TestSender) {
  const { db, clock, ids } = deps;
  const workspace = workspaceOf(config);
  const base = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/$/, '');
  // Preview and test sends have no message to sign links for; these show where the links sit.
  const previewLinks: ScopeLinks = { unsubscribe_url: `${base}/unsubscribe/preview`, preferences_url: `${base}/preferences/preview` };

  function refuseLiquidErrors(t: TemplateDraft) {
    const issues = validateTemplate(t);
    if (issues.length) throw new InputError(issues.map((i) => ({ field: i.field, message: `line ${i.line}, column ${i.column}: ${i.message}` })));
  }

  function audit(actor: Actor, action: string, t: { id: string; slug: string; name: string }, extra: Record<string, unknown> = {}) {
    return auditRepo.record(db, ids.newId(), clock.now(), { actorId: actor.id, actorLabel: actor.label, action, entity: 'email_template', entityId: t.id, details: { slug: t.slug, name: t.name, ...extra } });
  }

  return {
    /** Every template with the flows that send it. */
    async list() {
      const usedBy = new Map<string, { slug: string; name: string }[]>();
      for (const f of await templatesRepo.currentFlowDefinitions(db))
        for (const slug of new Set(templatesUsedBy(f.definition))) usedBy.set(slug, [...(usedBy.get(slug) ?? []), { slug: f.slug, name: f.name }]);
      // Names and subjects loaded from files hold Liquid; the list reads better as a lead sees them.
      // A name reads best with the defaults it names ("Hi there"), a subject as the sample lead sees it.
      const sample = sampleScope(workspace);
      const nobody = { ...sample, lead: leadScope({}), owner: null };
      const asSeen = (s: string, scope = sample) => {
        try {
          return renderLine(s, scope);
        } catch {
          return s;
        }
      };
      return (await templatesRepo.list(db)).map((t) => ({
        id: t.id,
        slug: t.slug,
        name: asSeen(t.name, nobody),
        subject: t.subject,
        sampleSubject: asSeen(t.subject),
        kind: t.kind,
        topic: t.topic,
        locale: t.locale,
        updatedAt: t.updated_at,
        usedBy: usedBy.get(t.slug) ?? []
      }));
    },

    async get(slug: string) {
      const t = await templatesRepo.bySlug(db, slug);
      if (!t) throw new NotFoundError('No such email template');
      return t;
    },

    async create(actor: Actor, raw: unknown) {
      const input = templateInput.parse(raw);
      refuseLiquidErrors(input);
      if (await templatesRepo.bySlug(db, input.slug)) throw new ConflictError(`A template with the slug "${input.slug}" exists already`);
      const row: TemplateRow = { id: ids.newId(), ...input, updated_at: clock.now() };
      await templatesRepo.insert(db, row);
      await audit(actor, 'email_template.create', row);
      return row;
    },

    /** The slug stays: flows refer to templates by it. */
    async update(actor: Actor, slug: string, raw: unknown) {
      const existing = await templatesRepo.bySlug(db, slug);
      if (!existing) throw new NotFoundError('No such email template');
      const input = templateInput.parse({ ...(raw as object), slug });
      refuseLiquidErrors(input);
      const patch: Partial<TemplateRow> = { ...input };
      delete patch.slug;
      await templatesRepo.update(db, existing.id, { ...patch, updated_at: clock.now() });
      await audit(actor, 'email_template.update', { ...existing, name: input.name });
      return { ...existing, ...patch };
    },

    /** Liquid problems with line and column, as the editor types. */
    validate: (draft: TemplateDraft): TemplateIssue[] => validateTemplate(draft),

    /** The draft rendered as a lead (a sample lead when none is chosen); issues instead when it cannot render. */
    async preview(draft: TemplateDraft, leadId: string | null) {
      const issues = validateTemplate(draft);
      if (issues.length) return { issues, email: null };
      const scope = await buildRenderScope(db, leadId, workspace, previewLinks);
      return { issues, email: renderTemplate(draft, scope) };
    },

    searchLeads: (text: string) => templatesRepo.searchLeads(db, text.trim(), 10),

    /**
     * "Send a test": renders the draft as the chosen lead to any address. Until the delivery stage
     * takes it, the message is kept (a `messages` row, status `kept`) and shown in the Mailbox.
     */
    async sendTest(actor: Actor, input: { draft: TemplateDraft; slug: string | null; leadId: string | null; to: string }) {
      refuseLiquidErrors(input.draft);
      const email = renderTemplate(input.draft, await buildRenderScope(db, input.leadId, workspace, previewLinks));
      const subject = `[Test] ${email.subject}`;
      if (sendTestEmail) {
        const sent = await sendTestEmail({ to: input.to, subject, html: email.html, text: email.text, leadId: input.leadId, template: input.slug });
        await audit(actor, 'email_template.test_sent', { id: input.slug ?? sent.id, slug: input.slug ?? '', name: email.subject }, { to: input.to, status: sent.status });
        return { id: sent.id, subject, status: sent.status };
      }
      const id = ids.newId();
      const now = clock.now();
      const key = `test:${id}`;
      await templatesRepo.insertTestMessage(
        db,
        { id, message_key: key, lead_id: input.leadId, template: input.slug, to_address: input.to, subject, kind: 'test', status: 'kept', status_reason: 'delivery off: kept in the Mailbox', created_at: now },
        { id: ids.newId(), message_key: key, lead_id: input.leadId, to_address: input.to, subject, body_text: email.text, body_html: email.html, template: input.slug, workflow_id: null, node_id: null, created_at: now }
      );
      await audit(actor, 'email_template.test_sent', { id: input.slug ?? id, slug: input.slug ?? '', name: email.subject }, { to: input.to });
      return { id, subject, status: 'kept' };
    }
  };
}

export type TemplatesService = ReturnType<typeof createTemplatesService>;

/** One service per app, for routes and procedures (the app's composition root does not build it). */
const perApp = new WeakMap<object, TemplatesService>();
export function templatesOf(app: { deps: Deps; config: Config; services?: { templates?: TemplatesService } }): TemplatesService {
  if (app.services?.templates) return app.services.templates;
  let s = perApp.get(app);
  if (!s) {
    s = createTemplatesService(app.deps, app.config);
    perApp.set(app, s);
  }
  return s;
}

/**
 * Richer example templates on disk: beside `emails/<slug>.liquid` (first line `subject: ...`, then
 * the text part, as the engine loads it), an optional `emails/<slug>.html` holds the HTML body,
 * after optional `preheader:`, `kind:` and `topic:` lines and a `---` line. Fills in templates the
 * engine loaded text-only, unless someone changed them since; inserts those not loaded yet.
 */
export async function loadTemplateFiles(deps: { db: Db; clock: Clock; ids: Ids }, dir: string): Promise<string[]> {
  if (!fs.existsSync(dir)) return [];
  const changed: string[] = [];
  for (const flow of fs.readdirSync(dir).sort()) {
    const emailsDir = path.join(dir, flow, 'emails');
    if (!fs.existsSync(emailsDir)) continue;
    for (const f of fs.readdirSync(emailsDir).filter((x) => x.endsWith('.liquid')).sort()) {
      const slug = f.replace(/\.liquid$/, '');
      const file = parseTemplateFiles(fs.readFileSync(path.join(emailsDir, f), 'utf8'), readIfExists(path.join(emailsDir, `${slug}.html`)));
      const row: TemplateRow = { id: deps.ids.newId(), slug, name: file.subject, locale: /[а-яё]/i.test(file.subject) || slug.endsWith('-ru') ? 'ru' : 'en', updated_at: deps.clock.now(), ...file };
      if (await templatesRepo.insertIfAbsent(deps.db, row)) {
        changed.push(slug);
        continue;
      }
      const existing = await templatesRepo.bySlug(deps.db, slug);
      if (existing && existing.html === null && file.html && existing.body.trim() === file.body.trim()) {
        await templatesRepo.update(deps.db, existing.id, { html: file.html, preheader: file.preheader, kind: file.kind, topic: file.topic });
        changed.push(slug);
      }
    }
  }
  return changed;
}

function readIfExists(p: string): string | null {
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null;
}

/** The `.liquid` (subject line + text) and optional `.html` (front matter + HTML) of one template. */
export function parseTemplateFiles(liquid: string, html: string | null) {
  const [first, ...rest] = liquid.replace(/\r\n?/g, '\n').split('\n');
  const out = { subject: first.replace(/^subject:\s*/i, '').trim(), body: rest.join('\n').trim() + '\n', html: null as string | null, preheader: null as string | null, kind: 'marketing', topic: null as string | null };
  if (html === null) return out;
  const normalized = html.replace(/\r\n?/g, '\n');
  const split = /^((?:[a-z]+:.*\n)*)---\n/i.exec(normalized);
  out.html = (split ? normalized.slice(split[0].length) : normalized).trim() + '\n';
  for (const line of (split?.[1] ?? '').split('\n')) {
    const m = /^([a-z]+):\s*(.*)$/i.exec(line);
    if (!m) continue;
    const value = m[2].trim();
    if (m[1] === 'preheader') out.preheader = value || null;
    if (m[1] === 'kind' && (value === 'marketing' || value === 'transactional')) out.kind = value;
    if (m[1] === 'topic') out.topic = value || null;
  }
  return out;
}
