import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';

/**
 * The email channel end to end, as issue 5's "done when" reads: a lead entering a flow receives a
 * correct, tracked, unsubscribable email over real SMTP; a click shows on the timeline and moves
 * the flow on; a one-click unsubscribe stops the next email; a send outside the window waits.
 */
const HOUR = 3_600_000;
const system = { id: null, label: 'test' };
const HUMAN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
let app: TestApp;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await createTestApp({ SMTP_URL: sink.url, SMTP_FROM: '"Команда Nurture" <hello@nurture.test>', PUBLIC_URL: 'https://nurture.test', SEND_WINDOW: 'mon-fri 09:00-18:00' });
  const now = app.clock.now();
  await app.deps.db
    .insertInto('email_templates')
    .values([
      { id: 't1', slug: 'hello', name: 'hello', subject: 'Привет, {{ lead.first_name }}!', body: '', html: '<p>Здравствуйте, {{ lead.name }}.</p><p><a href="https://example.ru/pricing">Цены</a></p>', locale: 'ru', updated_at: now },
      { id: 't2', slug: 'thanks', name: 'thanks', subject: 'Спасибо за интерес', body: 'Мы рады.', locale: 'ru', updated_at: now },
      { id: 't3', slug: 'nudge', name: 'nudge', subject: 'Напоминаем', body: 'Посмотрите цены.', locale: 'ru', updated_at: now }
    ])
    .execute();
  await app.services.engine.publish(system, {
    slug: 'pricing-nurture',
    name: 'Pricing nurture',
    trigger: { type: 'lead_created' },
    start: 'e1',
    nodes: {
      e1: { kind: 'send_email', template: 'hello', next: 'w' },
      w: { kind: 'wait_until', eventType: 'email_clicked', timeout: { amount: 3, unit: 'days' }, next: 'e2', timeoutNext: 'e3' },
      e2: { kind: 'send_email', template: 'thanks', next: 'end' },
      e3: { kind: 'send_email', template: 'nudge', next: 'end' },
      end: { kind: 'exit' }
    }
  });
});
afterAll(async () => {
  await app?.close();
  await sink?.close();
});

async function newLead(email: string) {
  const r = await app.services.capture.capture({ input: parseLeadInput({ email, name: 'Анна Смирнова', consent_marketing: true, consent_tracking: true }), source: 'api', actor: system });
  await app.services.engine.runUntilIdle();
  return r.leadId;
}

async function advance(ms: number) {
  for (let t = 0; t < ms; t += HOUR) {
    app.clock.advance(Math.min(HOUR, ms - t));
    await app.services.engine.runUntilIdle();
  }
}

const mailsTo = (email: string) => sink.received.filter((m) => m.envelope.to.includes(email));

describe('email channel through a flow', () => {
  it('sends a tracked, unsubscribable email over SMTP, and a click moves the flow on', async () => {
    const id = await newLead('anna@example.ru');
    const [mail] = mailsTo('anna@example.ru');
    expect(mail.subject).toBe('Привет, Анна!');
    expect(mail.headers.get('from')).toContain('Команда Nurture');
    expect(mail.headers.get('list-unsubscribe')?.trim()).toMatch(/^<https:\/\/nurture\.test\/u\/[\w-]+>, <mailto:/);
    expect(mail.headers.get('list-unsubscribe-post')?.trim()).toBe('List-Unsubscribe=One-Click');
    expect(mail.messageId).toMatch(/@/);
    expect(mail.text).toContain('Здравствуйте, Анна Смирнова.');
    expect(mail.html).toMatch(/https:\/\/nurture\.test\/t\/o\/[\w-]+/);
    expect(mail.html).not.toContain('https://example.ru/pricing');
    expect(mail.raw).not.toContain('anna@example.ru/'); // no address in any URL

    const token = /\/t\/c\/([\w-]+)/.exec(mail.html!)![1];
    app.clock.advance(5 * 60_000);
    expect(await app.services.tracking.recordClick(token, { userAgent: HUMAN, ip: '203.0.113.7' })).toBe('https://example.ru/pricing');
    await app.services.engine.runUntilIdle();
    expect(mailsTo('anna@example.ru').map((m) => m.subject)).toEqual(['Привет, Анна!', 'Спасибо за интерес']);
    const types = (await app.services.leads.timeline(id)).map((e) => e.type);
    expect(types).toContain('email_clicked');
    expect(types.filter((t) => t === 'email_sent')).toHaveLength(2);
  });

  it('stops the next email after a one-click unsubscribe', async () => {
    await newLead('boris@example.ru');
    const [first] = mailsTo('boris@example.ru');
    const token = /\/u\/([\w-]+)>/.exec(first.headers.get('list-unsubscribe')!)![1];
    expect(await app.services.tracking.unsubscribe(token, 'one_click')).toBe(true);
    await advance(3 * 24 * HOUR + HOUR);
    expect(mailsTo('boris@example.ru')).toHaveLength(1);
    const nudge = await app.deps.db.selectFrom('messages').selectAll().where('to_address', '=', 'boris@example.ru').where('template', '=', 'nudge').executeTakeFirstOrThrow();
    expect(nudge.status).toBe('suppressed');
  });

  it('holds a send outside the window until it opens, in the lead’s time zone', async () => {
    // Saturday 10 January 2026, noon in Moscow: the window (weekdays 09–18) is closed.
    app.clock.set(Date.UTC(2026, 0, 10, 9, 0, 0));
    await newLead('vera@example.ru');
    expect(mailsTo('vera@example.ru')).toHaveLength(0);
    await advance(44 * HOUR);
    expect(mailsTo('vera@example.ru')).toHaveLength(0);
    await advance(4 * HOUR);
    const row = await app.deps.db.selectFrom('messages').selectAll().where('to_address', '=', 'vera@example.ru').executeTakeFirstOrThrow();
    expect(row.status).toBe('sent');
    // Monday 12 January, 09:00 Moscow = 06:00 UTC.
    expect(row.sent_at! - Date.UTC(2026, 0, 12, 6, 0, 0)).toBeGreaterThanOrEqual(0);
    expect(row.sent_at! - Date.UTC(2026, 0, 12, 6, 0, 0)).toBeLessThan(HOUR);
  });
});
