import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { InputError } from '../../src/lib/server/services/deps';
import { assertTemplatesUsable, createTemplatesService, loadTemplateFiles, renderStoredTemplate, workspaceOf } from '../../src/lib/server/services/templates.service';
import { decideSend, sendRulesFromConfig } from '../../src/lib/server/email/send-decision';
import { leadsRepo } from '../../src/lib/server/repositories/leads.repo';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp({ WORKSPACE_ADDRESS: '101000, Москва, Мясницкая ул., 1', SEND_WINDOW: 'mon-fri 09:00-18:00', FREQUENCY_CAP: '3/7d' });
});
afterEach(async () => {
  await app.close();
});

const H = 3_600_000;
const D = 24 * H;
const actor = { id: null, label: 'test' };
const links = { unsubscribe_url: 'https://app.test/u/x', preferences_url: 'https://app.test/p/x' };

async function lead(input: Record<string, unknown>) {
  const r = await app.services.capture.capture({ input: parseLeadInput(input), source: 'api', touch: {}, actor });
  return r.leadId;
}

async function sent(leadId: string, at: number, status = 'sent', kind = 'marketing') {
  const id = app.deps.ids.newId();
  await app.deps.db
    .insertInto('messages')
    .values({ id, message_key: `k:${id}`, lead_id: leadId, template: 't', workflow_id: null, node_id: null, to_address: 'x@test.local', subject: 's', kind, status, status_reason: null, smtp_message_id: null, smtp_response: null, attempts: 1, created_at: at, sent_at: at, first_open_at: null, first_click_at: null, opens: 0, machine_opens: 0, clicks: 0, machine_clicks: 0, attempt_started_at: null })
    .execute();
}

describe('templates service', () => {
  it('creates a template, refuses Liquid errors and CR/LF, and renders it as a lead with escaping', async () => {
    const svc = createTemplatesService(app.deps, app.config);
    const t = await svc.create(actor, { slug: 'promo-ru', name: 'Промо', subject: '{{ lead.first_name }}, новости', html: '<p>Привет, {{ lead.name }}! {{ lead.nothing }}</p>', body: '', kind: 'marketing', topic: 'news', locale: 'ru', preheader: null });
    expect(t.slug).toBe('promo-ru');
    await expect(svc.create(actor, { ...t, slug: 'broken', html: '<p>\n{{ lead.name | nope }}</p>' })).rejects.toMatchObject({ issues: [{ field: 'html', message: 'line 2, column 1: undefined filter: nope' }] });
    await expect(svc.create(actor, { ...t, slug: 'promo-ru' })).rejects.toThrow(/exists already/);
    await expect(svc.create(actor, { ...t, slug: 'inject', subject: 'Hi\r\nBcc: a@b.c' })).rejects.toThrow(/one line/);

    const leadId = await lead({ email: 'evil@example.ru', name: '<script>alert(1)</script> Злой' });
    const r = await renderStoredTemplate(app.deps.db, 'promo-ru', leadId, workspaceOf(app.config), links);
    expect(r.subject).toBe('<script>alert(1)</script>, новости');
    expect(r.html).toContain('Привет, &lt;script&gt;alert(1)&lt;/script&gt; Злой! </p>');
    expect(r.html).toContain('Мясницкая ул., 1');
    expect(r.text).toContain('Привет, <script>alert(1)</script> Злой!');
    expect(r.text).toContain('Отписаться: https://app.test/u/x');
  });

  it('previews a draft as a chosen lead, reports issues instead of rendering, and keeps a test send in the Mailbox', async () => {
    const svc = createTemplatesService(app.deps, app.config);
    const leadId = await lead({ email: 'anna@example.ru', name: 'Анна Смирнова', company: 'Ромашка' });
    const draft = { subject: 'Для {{ lead.company }}', preheader: null, html: '<h1>{{ lead.first_name }}</h1>', body: '', kind: 'marketing' as const, locale: 'ru' as const };
    const p = await svc.preview(draft, leadId);
    expect(p.email?.subject).toBe('Для Ромашка');
    expect(p.email?.text.startsWith('АННА\n')).toBe(true);
    const bad = await svc.preview({ ...draft, html: '{% for x in %}' }, null);
    expect(bad.email).toBeNull();
    expect(bad.issues[0]).toMatchObject({ field: 'html', line: 1, column: 1 });

    const test = await svc.sendTest(actor, { draft, slug: null, leadId, to: 'qa@example.com' });
    const msg = await app.deps.db.selectFrom('messages').selectAll().where('id', '=', test.id).executeTakeFirstOrThrow();
    expect(msg).toMatchObject({ kind: 'test', status: 'kept', to_address: 'qa@example.com', subject: '[Test] Для Ромашка', message_key: `test:${test.id}` });
    const mailbox = await app.services.engine.mailboxMessages({ limit: 10 });
    expect(mailbox.map((m) => m.subject)).toContain('[Test] Для Ромашка');
  });

  it('loads the shipped HTML examples beside the text ones and lists the flows using each template', async () => {
    await app.services.engine.loadWorkflowsDir('workflows', actor);
    const filled = await loadTemplateFiles(app.deps, 'workflows');
    expect(filled).toEqual(expect.arrayContaining(['welcome-1-en', 'welcome-1-ru', 'welcome-3-ru']));
    const svc = createTemplatesService(app.deps, app.config);
    const list = await svc.list();
    const w1 = list.find((t) => t.slug === 'welcome-1-ru');
    expect(w1).toMatchObject({ locale: 'ru', topic: 'onboarding', usedBy: [{ slug: 'welcome-sequence' }] });
    // Names and subjects loaded from files hold Liquid: listed as a lead would read them.
    expect(w1).toMatchObject({ name: 'Здравствуйте, добро пожаловать в Nurture', sampleSubject: 'Anna, добро пожаловать в Nurture' });
    expect(w1?.subject).toMatch(/^\{\{ lead.first_name/);
    const tpl = await svc.get('welcome-1-ru');
    expect(tpl.html).toContain('<ul>');
    expect(tpl.preheader).toMatch(/^Пришлём/);
    // A second run changes nothing, and a template edited in the UI is never overwritten.
    expect(await loadTemplateFiles(app.deps, 'workflows')).toEqual([]);
    // Every shipped template renders without a Liquid error.
    await assertTemplatesUsable(app.deps.db, list.map((t) => t.slug));
  });

  it('refuses publishing with a missing or broken template', async () => {
    await app.deps.db.insertInto('email_templates').values({ id: 'b1', slug: 'broken', name: 'b', subject: 'ok', body: 'Hi {{ lead.name', locale: 'en', updated_at: 0, preheader: null, html: null, topic: null }).execute();
    const err = await assertTemplatesUsable(app.deps.db, ['broken', 'absent']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).issues).toEqual([
      { field: 'templates.broken.body', message: expect.stringMatching(/^line 1, column 4: /) },
      { field: 'templates.absent', message: 'this email template does not exist' }
    ]);
  });
});

describe('decideSend', () => {
  const rules = () => sendRulesFromConfig(app.config);
  // Monday 12 January 2026, 09:00 UTC = 12:00 in Moscow.
  const monNoon = Date.UTC(2026, 0, 12, 9, 0);

  it('sends inside the window and defers outside it, in the lead zone from the phone', async () => {
    const moscow = await lead({ email: 'a@example.ru', phone: '+7 916 123-45-67' });
    const newYork = await lead({ email: 'b@example.com', phone: '+1 212 555 0100' });
    expect(await decideSend(app.deps.db, { leadId: moscow, kind: 'marketing', now: monNoon }, rules())).toEqual({ action: 'send' });
    // 04:00 in New York: waits for 09:00 there (14:00 UTC in winter).
    expect(await decideSend(app.deps.db, { leadId: newYork, kind: 'marketing', now: monNoon }, rules())).toEqual({ action: 'defer', until: Date.UTC(2026, 0, 12, 14, 0), reason: 'send_window', detail: 'send window mon-fri 09:00-18:00 in America/New_York' });
    // The lead's own zone wins over the phone.
    await leadsRepo.update(app.deps.db, newYork, { timezone: 'Europe/Moscow' });
    expect(await decideSend(app.deps.db, { leadId: newYork, kind: 'marketing', now: monNoon }, rules())).toEqual({ action: 'send' });
    // A flow's own window replaces the workspace's, or turns it off.
    expect(await decideSend(app.deps.db, { leadId: moscow, kind: 'marketing', now: monNoon, window: 'sat-sun 10:00-12:00' }, rules())).toMatchObject({ action: 'defer', until: Date.UTC(2026, 0, 17, 7, 0) });
    expect(await decideSend(app.deps.db, { leadId: moscow, kind: 'marketing', now: monNoon + 10 * H, window: null }, rules())).toEqual({ action: 'send' });
  });

  it('caps marketing sends across flows: waits or skips as the step says; failed sends do not count', async () => {
    const id = await lead({ email: 'c@example.ru', phone: '+79161234500' });
    await sent(id, monNoon - 6 * D);
    await sent(id, monNoon - 2 * D, 'kept');
    await sent(id, monNoon - 1 * D, 'failed');
    await sent(id, monNoon - 1 * D, 'sent', 'transactional');
    expect(await decideSend(app.deps.db, { leadId: id, kind: 'marketing', now: monNoon }, rules())).toEqual({ action: 'send' });
    await sent(id, monNoon - 1 * D, 'unconfirmed');
    expect(await decideSend(app.deps.db, { leadId: id, kind: 'marketing', now: monNoon, onCap: 'wait' }, rules())).toMatchObject({ action: 'defer', until: monNoon + D, reason: 'frequency_cap' });
    expect(await decideSend(app.deps.db, { leadId: id, kind: 'marketing', now: monNoon, onCap: 'skip' }, rules())).toMatchObject({ action: 'skip', reason: 'frequency_cap' });
    // Transactional mail skips both the cap and the window.
    expect(await decideSend(app.deps.db, { leadId: id, kind: 'transactional', now: monNoon }, rules())).toEqual({ action: 'send' });
    expect(await decideSend(app.deps.db, { leadId: id, kind: 'transactional', now: Date.UTC(2026, 0, 17, 22) }, rules())).toEqual({ action: 'send' });
    // A day later the oldest send has left the period.
    expect(await decideSend(app.deps.db, { leadId: id, kind: 'marketing', now: monNoon + D }, rules())).toEqual({ action: 'send' });
  });

  it('skips a lead that is gone', async () => {
    expect(await decideSend(app.deps.db, { leadId: 'nope', kind: 'marketing', now: monNoon }, rules())).toMatchObject({ action: 'skip', reason: 'lead_gone' });
  });
});
