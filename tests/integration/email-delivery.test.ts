import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { startSmtpSink, verifyDkim, type SmtpSink } from '../support/smtp-sink';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { createDelivery, type QueueRequest } from '../../src/lib/server/email/delivery';
import { createSmtpTransport, classifySmtpError, type SmtpConfig } from '../../src/lib/server/email/smtp-transport';
import { createMailboxTransport } from '../../src/lib/server/email/mailbox-transport';
import { messageIdHeaderFor, parseSender } from '../../src/lib/server/email/message-headers';
import type { OutgoingMessage, Transport } from '../../src/lib/server/email/contract';
import { messagesRepo } from '../../src/lib/server/repositories/messages.repo';
import { bounceReportSchema, createBounceRecorder } from '../../src/lib/server/email/bounces';
import { NotFoundError } from '../../src/lib/server/services/deps';

/*
 * Delivery against a real SMTP server on a local port (ports 2525-2535 belong to this suite):
 * the MIME a provider would receive, SMTP faults, the crash between the 250 and the commit,
 * suppressions and header injection.
 */

const FROM = '"Команда Nurture" <hello@nurture.example>';
const DOMAIN = 'nurture.example';
const actor = { id: null, label: 'test' };

let sink: SmtpSink;
let app: TestApp;
const transports: Transport[] = [];

beforeAll(async () => {
  sink = await startSmtpSink({ port: 2525 });
});
afterAll(async () => {
  await sink.close();
});
beforeEach(async () => {
  app = await createTestApp();
});
afterEach(async () => {
  for (const t of transports.splice(0)) await t.close();
  await app.close();
});

function smtp(overrides: Partial<SmtpConfig> = {}, url = sink.url): Transport {
  const t = createSmtpTransport({ url, from: FROM, poolSize: 2, connectionTimeoutMs: 2000, socketTimeoutMs: 3000, ...overrides });
  transports.push(t);
  return t;
}

let seq = 0;
async function lead(email: string, name = 'Иван Петров') {
  const r = await app.services.capture.capture({ input: parseLeadInput({ email, name }), source: 'form', actor });
  return r.leadId;
}

/** Queues a send the way the outbox does (inside a transaction) and answers its id and a builder. */
async function queued(delivery: ReturnType<typeof createDelivery>, to: string, extra: Partial<QueueRequest & OutgoingMessage> = {}) {
  const leadId = await lead(to);
  const messageKey = extra.messageKey ?? `inst-${++seq}:1:0`;
  const subject = extra.subject ?? 'Добро пожаловать, Иван!';
  const req: QueueRequest = { messageKey, leadId, to, toName: 'Иван Петров', template: 'welcome', kind: 'marketing', workflowId: 'wf-1', nodeId: 'n1', subject, ...extra };
  const id = await app.deps.db.transaction().execute((trx) => delivery.queue(trx, req));
  const build = async (): Promise<OutgoingMessage> => ({
    id,
    messageKey,
    from: FROM,
    to,
    toName: req.toName,
    subject,
    html: '<p>Привет, <b>Иван</b>! <a href="https://nurture.example/t/c/abc">Открыть</a></p>',
    text: 'Привет, Иван! Открыть: https://nurture.example/t/c/abc',
    headers: {
      'List-Unsubscribe': '<https://nurture.example/u/tok123>, <mailto:unsubscribe@nurture.example?subject=tok123>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click'
    },
    messageIdHeader: messageIdHeaderFor(messageKey, DOMAIN),
    ...extra
  });
  return { id, leadId, messageKey, build };
}

const row = (id: string) => messagesRepo.findById(app.deps.db, id);
const received = (messageId: string) => sink.received.filter((m) => m.messageId === messageId);

describe('SMTP delivery: what the receiving server gets', () => {
  it('sends From and Subject in Cyrillic encoded, To, Message-ID <key@domain>, List-Unsubscribe headers, text and HTML parts', async () => {
    const delivery = createDelivery(app.deps, smtp());
    const m = await queued(delivery, 'ivan@example.ru');
    const out = await delivery.deliver(m.id, m.build);
    expect(out.status).toBe('sent');

    const mid = messageIdHeaderFor(m.messageKey, DOMAIN);
    expect(mid).toMatch(/^<inst-\d+=3A1=3A0@nurture\.example>$/);
    const [mail] = received(mid);
    expect(mail).toBeDefined();
    expect(mail.envelope).toEqual({ from: 'hello@nurture.example', to: ['ivan@example.ru'] });
    // Encoded on the wire (7-bit headers), correct once decoded
    expect(mail.headers.raw('from')).toMatch(/^=\?UTF-8\?[BQ]\?.+\?= <hello@nurture\.example>$/i);
    expect(mail.headers.get('from')).toBe('Команда Nurture <hello@nurture.example>');
    expect(mail.headers.raw('subject')).toMatch(/^=\?UTF-8\?[BQ]\?/i);
    expect(mail.subject).toBe('Добро пожаловать, Иван!');
    expect(mail.headers.get('to')).toBe('Иван Петров <ivan@example.ru>');
    expect(mail.headers.raw('list-unsubscribe')).toBe('<https://nurture.example/u/tok123>, <mailto:unsubscribe@nurture.example?subject=tok123>');
    expect(mail.headers.raw('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.root.contentType).toBe('multipart/alternative');
    expect(mail.text).toContain('Привет, Иван! Открыть: https://nurture.example/t/c/abc');
    expect(mail.html).toContain('<p>Привет, <b>Иван</b>!');
    expect(/[\u0080-\uffff]/.test(mail.raw)).toBe(false); // nothing 8-bit leaks into the raw message
    expect(mail.headers.raw('dkim-signature')).toBeUndefined();

    const r = await row(m.id);
    expect(r).toMatchObject({ status: 'sent', attempts: 1, smtp_message_id: mid, sent_at: app.clock.now() });
    expect(r!.smtp_response).toMatch(/^250/);
    const timeline = await app.services.leads.timeline(m.leadId);
    expect(timeline.filter((e) => e.type === 'email_sent')).toHaveLength(1);
  });

  it('signs with DKIM when configured, and the signature verifies with the public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const delivery = createDelivery(app.deps, smtp({ dkim: { domainName: DOMAIN, keySelector: 'nurture1', privateKey } }));
    const m = await queued(delivery, 'dkim@example.ru');
    expect((await delivery.deliver(m.id, m.build)).status).toBe('sent');
    const [mail] = received(messageIdHeaderFor(m.messageKey, DOMAIN));
    expect(mail.headers.raw('dkim-signature')).toMatch(/d=nurture\.example;.*s=nurture1/s);
    expect(verifyDkim(mail.raw, publicKey)).toEqual({ ok: true, domain: DOMAIN, selector: 'nurture1' });
    // A changed byte breaks it: the check is real
    expect(verifyDkim(mail.raw.replace(/^Subject: .*$/m, 'Subject: changed'), publicKey)).toEqual({ ok: false, reason: 'signature does not verify' });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    expect(verifyDkim(mail.raw, other.publicKey)).toEqual({ ok: false, reason: 'signature does not verify' });
  });

  it('authenticates with the user and password from SMTP_URL', async () => {
    const authSink = await startSmtpSink({ port: 2526, auth: { user: 'relay', pass: 'p@ss word' } });
    try {
      expect(authSink.url).toBe('smtp://relay:p%40ss%20word@127.0.0.1:2526');
      const delivery = createDelivery(app.deps, smtp({}, authSink.url));
      const m = await queued(delivery, 'auth@example.ru');
      expect((await delivery.deliver(m.id, m.build)).status).toBe('sent');
      expect(authSink.accepted()).toBe(1);

      const wrong = createDelivery(app.deps, smtp({}, 'smtp://relay:nope@127.0.0.1:2526'));
      const w = await queued(wrong, 'auth2@example.ru');
      // Our credentials being wrong says nothing about the message: retried, not failed.
      expect((await wrong.deliver(w.id, w.build)).status).toBe('queued');
      expect(authSink.accepted()).toBe(1);
    } finally {
      await authSink.close();
    }
  });
});

describe('SMTP faults', () => {
  it('retries after a 4xx, then sends once on the 250', async () => {
    const delivery = createDelivery(app.deps, smtp());
    const m = await queued(delivery, 'greylist@example.ru');
    sink.fail({ stage: 'rcpt', code: 451, message: '4.7.1 Greylisted, try again later' });
    const first = await delivery.deliver(m.id, m.build);
    expect(first.status).toBe('queued');
    expect(first.retryAt).toBeGreaterThanOrEqual(app.clock.now() + 30_000);
    expect(await row(m.id)).toMatchObject({ status: 'queued', attempts: 1 });
    expect((await row(m.id))!.smtp_response).toMatch(/451/);

    app.clock.advance(60_000);
    expect((await delivery.deliver(m.id, m.build)).status).toBe('sent');
    expect(await row(m.id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(received(messageIdHeaderFor(m.messageKey, DOMAIN))).toHaveLength(1);
    // Sent is final: another call sends nothing
    expect((await delivery.deliver(m.id, m.build)).status).toBe('sent');
    expect(received(messageIdHeaderFor(m.messageKey, DOMAIN))).toHaveLength(1);
  });

  it('fails on a 550 for the mailbox, suppresses the address and records the bounce; later sends to it send nothing', async () => {
    const delivery = createDelivery(app.deps, smtp());
    sink.rejectRecipient('gone@example.ru', 550, '5.1.1 No such user here');
    const m = await queued(delivery, 'gone@example.ru');
    const out = await delivery.deliver(m.id, m.build);
    expect(out.status).toBe('failed');
    expect(await row(m.id)).toMatchObject({ status: 'failed', status_reason: 'hard bounce' });
    expect(await messagesRepo.suppressionOf(app.deps.db, 'GONE@example.ru')).toBe('bounced');
    const timeline = await app.services.leads.timeline(m.leadId);
    expect(timeline.find((e) => e.type === 'email_bounced')?.properties).toMatchObject({ hard: true, via: 'smtp' });

    const before = sink.accepted();
    const again = await queued(delivery, 'gone@example.ru', { kind: 'transactional' });
    expect((await delivery.deliver(again.id, again.build)).status).toBe('suppressed');
    expect(sink.accepted()).toBe(before);
  });

  it('fails without suppressing on a 5xx that is not about the mailbox', async () => {
    const delivery = createDelivery(app.deps, smtp());
    const m = await queued(delivery, 'spamfilter@example.ru');
    sink.fail({ stage: 'data', code: 554, message: '5.7.1 Message rejected as spam' });
    expect((await delivery.deliver(m.id, m.build)).status).toBe('failed');
    expect(await row(m.id)).toMatchObject({ status: 'failed', status_reason: 'permanent failure' });
    expect(await messagesRepo.suppressionOf(app.deps.db, 'spamfilter@example.ru')).toBeNull();
  });

  it('treats a dropped connection as temporary and sends on the retry', async () => {
    const delivery = createDelivery(app.deps, smtp());
    const m = await queued(delivery, 'flaky@example.ru');
    sink.fail({ stage: 'data', drop: true });
    const first = await delivery.deliver(m.id, m.build);
    expect(first.status).toBe('queued');
    expect(received(messageIdHeaderFor(m.messageKey, DOMAIN))).toHaveLength(0);
    app.clock.advance(120_000);
    expect((await delivery.deliver(m.id, m.build)).status).toBe('sent');
    expect(received(messageIdHeaderFor(m.messageKey, DOMAIN))).toHaveLength(1);
  });

  it('treats a refused connection as temporary, and gives up after the last attempt', async () => {
    const delivery = createDelivery(app.deps, smtp({}, 'smtp://127.0.0.1:2535'), { maxAttempts: 2 });
    const m = await queued(delivery, 'nobody-listens@example.ru');
    expect((await delivery.deliver(m.id, m.build)).status).toBe('queued');
    app.clock.advance(120_000);
    expect((await delivery.deliver(m.id, m.build)).status).toBe('failed');
    expect(await row(m.id)).toMatchObject({ status: 'failed', status_reason: 'gave up after 2 attempts', attempts: 2 });
    expect(await messagesRepo.suppressionOf(app.deps.db, 'nobody-listens@example.ru')).toBeNull();
  });

  it('classifies SMTP answers', () => {
    expect(classifySmtpError({ responseCode: 421, response: '421 busy' })).toMatchObject({ temporary: true });
    expect(classifySmtpError({ responseCode: 550, response: '550 5.1.1 unknown user' })).toMatchObject({ temporary: false, hardBounce: true });
    expect(classifySmtpError({ responseCode: 553, response: '553 mailbox name not allowed' })).toMatchObject({ temporary: false, hardBounce: true });
    expect(classifySmtpError({ responseCode: 550, response: '550 5.7.1 policy' })).toMatchObject({ temporary: false, hardBounce: false });
    expect(classifySmtpError({ responseCode: 552, response: '552 too big' })).toMatchObject({ temporary: false, hardBounce: false });
    expect(classifySmtpError({ code: 'ECONNECTION', message: 'Connection closed' })).toMatchObject({ temporary: true });
  });
});

describe('exactly once', () => {
  it('a crash after the 250 leaves the message sending; the next attempt does not send it again and marks it unconfirmed', async () => {
    const real = smtp();
    // The process "dies" right after the server accepted the message: the result is never recorded.
    const crashing: Transport = {
      name: 'smtp',
      async send(message) {
        const r = await real.send(message);
        expect(r.ok).toBe(true);
        throw new Error('process killed after the 250');
      },
      close: () => real.close()
    };
    const m = await queued(createDelivery(app.deps, crashing), 'once@example.ru');
    await expect(createDelivery(app.deps, crashing).deliver(m.id, m.build)).rejects.toThrow('process killed');
    const mid = messageIdHeaderFor(m.messageKey, DOMAIN);
    expect(received(mid)).toHaveLength(1);
    expect(await row(m.id)).toMatchObject({ status: 'sending', attempts: 1 });

    // After restart, the outbox retries the step with a healthy transport.
    const delivery = createDelivery(app.deps, real, { sendingLeaseMs: 120_000 });
    // Queueing the same step again answers the same row.
    expect(await app.deps.db.transaction().execute((trx) => delivery.queue(trx, { messageKey: m.messageKey, leadId: m.leadId, to: 'once@example.ru', toName: null, template: 'welcome', kind: 'marketing', workflowId: 'wf-1', nodeId: 'n1', subject: 'x' }))).toBe(m.id);
    // Within the lease the attempt may still be running elsewhere: left alone
    expect((await delivery.deliver(m.id, m.build)).status).toBe('sending');
    app.clock.advance(121_000);
    expect((await delivery.deliver(m.id, m.build)).status).toBe('unconfirmed');
    expect((await delivery.deliver(m.id, m.build)).status).toBe('unconfirmed');
    expect(received(mid)).toHaveLength(1);
    expect(sink.countsByMessageId.get(mid)).toBe(1);
    expect(await row(m.id)).toMatchObject({ status: 'unconfirmed', attempts: 1 });
  });

  it('two workers delivering the same message at once send it once', async () => {
    const delivery = createDelivery(app.deps, smtp());
    const m = await queued(delivery, 'race@example.ru');
    const results = await Promise.all([delivery.deliver(m.id, m.build), delivery.deliver(m.id, m.build), delivery.deliver(m.id, m.build)]);
    expect(results.filter((r) => r.status === 'sent')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(received(messageIdHeaderFor(m.messageKey, DOMAIN))).toHaveLength(1);
  });
});

describe('suppressions at send time', () => {
  it('a marketing send to an unsubscribed address sends nothing; a transactional one still goes', async () => {
    const delivery = createDelivery(app.deps, smtp());
    const mk = await queued(delivery, 'unsub@example.ru');
    const tx = await queued(delivery, 'unsub@example.ru', { kind: 'transactional' });
    // Unsubscribed after both were queued: honoured at send time
    await messagesRepo.suppress(app.deps.db, 'Unsub@Example.ru', 'unsubscribed', 'test', app.clock.now());
    const before = sink.accepted();
    expect(await delivery.deliver(mk.id, mk.build)).toMatchObject({ status: 'suppressed', detail: 'unsubscribed' });
    expect(sink.accepted()).toBe(before);
    expect((await delivery.deliver(tx.id, tx.build)).status).toBe('sent');
    expect(sink.accepted()).toBe(before + 1);
  });

  it('a complaint stops transactional mail too', async () => {
    const delivery = createDelivery(app.deps, smtp());
    await messagesRepo.suppress(app.deps.db, 'angry@example.ru', 'unsubscribed', 'test', app.clock.now());
    await messagesRepo.suppress(app.deps.db, 'angry@example.ru', 'complained', 'test', app.clock.now());
    expect(await messagesRepo.suppressionOf(app.deps.db, 'angry@example.ru')).toBe('complained');
    const tx = await queued(delivery, 'angry@example.ru', { kind: 'transactional' });
    expect((await delivery.deliver(tx.id, tx.build)).status).toBe('suppressed');
  });
});

describe('header injection', () => {
  it('refuses CR/LF in the subject, the recipient name, the sender name and header values; nothing is sent', async () => {
    const delivery = createDelivery(app.deps, smtp());
    const before = sink.accepted();
    const cases: Partial<OutgoingMessage>[] = [
      { subject: 'Hello\r\nBcc: victim@example.com' },
      { toName: 'Иван\nBcc: victim@example.com' },
      { from: '"Evil\r\nBcc: x@y.z" <hello@nurture.example>' },
      { headers: { 'List-Unsubscribe': '<https://x>\r\nBcc: victim@example.com' } }
    ];
    for (const c of cases) {
      const m = await queued(delivery, `inject${++seq}@example.ru`, { subject: 'ok', toName: null });
      const out = await delivery.deliver(m.id, async () => ({ ...(await m.build()), ...c }));
      expect(out.status).toBe('failed');
      expect(out.detail).toMatch(/line break/);
      expect(await row(m.id)).toMatchObject({ status: 'failed', attempts: 0 });
    }
    // The transport refuses too, for callers that skip delivery.ts
    const m = await queued(delivery, 'direct@example.ru');
    const r = await smtp().send({ ...(await m.build()), subject: 'a\rb' });
    expect(r).toMatchObject({ ok: false, temporary: false });
    expect(() => parseSender('Имя <a@b.ru>\r\nBcc: c@d.ru')).toThrow(/line break/);
    expect(sink.accepted()).toBe(before);
  });
});

describe('delivery off: the in-app Mailbox', () => {
  it('keeps to, subject, text and HTML under the message key, once', async () => {
    const delivery = createDelivery(app.deps, createMailboxTransport(app.deps));
    const before = sink.accepted();
    const m = await queued(delivery, 'demo@example.ru');
    expect((await delivery.deliver(m.id, m.build)).status).toBe('kept');
    expect((await delivery.deliver(m.id, m.build)).status).toBe('kept');
    const kept = await app.deps.db.selectFrom('mailbox_messages').selectAll().where('message_key', '=', m.messageKey).execute();
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ to_address: 'demo@example.ru', subject: 'Добро пожаловать, Иван!', lead_id: m.leadId, template: 'welcome', workflow_id: 'wf-1', node_id: 'n1' });
    expect(kept[0].body_text).toContain('Привет, Иван!');
    expect(kept[0].body_html).toContain('<b>Иван</b>');
    expect(sink.accepted()).toBe(before);
  });
});

describe('provider bounce and complaint reports', () => {
  it('a hard bounce by Message-ID fails the message, suppresses the address and adds one email_bounced event, however often it is repeated', async () => {
    const delivery = createDelivery(app.deps, smtp());
    const m = await queued(delivery, 'later-bounce@example.ru');
    expect((await delivery.deliver(m.id, m.build)).status).toBe('sent');
    const recorder = createBounceRecorder(app.deps);
    const mid = messageIdHeaderFor(m.messageKey, DOMAIN);
    const report = { messageId: mid.slice(1, -1), type: 'hard_bounce' as const, detail: '550 5.1.1 user unknown' };
    expect(await recorder.record(report, 'api-key:esp')).toEqual({ email: 'later-bounce@example.ru', messageId: m.id, leadId: m.leadId, suppressed: true });
    expect(await recorder.record(report, 'api-key:esp')).toMatchObject({ suppressed: false });
    expect(await row(m.id)).toMatchObject({ status: 'failed', status_reason: 'hard bounce (provider)' });
    expect(await messagesRepo.suppressionOf(app.deps.db, 'later-bounce@example.ru')).toBe('bounced');
    const events = (await app.services.leads.timeline(m.leadId)).filter((e) => e.type === 'email_bounced');
    expect(events).toHaveLength(1);
    expect(events[0].properties).toMatchObject({ messageId: m.id, hard: true, detail: '550 5.1.1 user unknown', via: 'webhook' });
  });

  it('a complaint by address suppresses it and adds email_complained; a soft bounce only records', async () => {
    const recorder = createBounceRecorder(app.deps);
    const leadId = await lead('complainer@example.ru');
    expect(await recorder.record({ email: ' Complainer@Example.RU ', type: 'complaint' }, 'test')).toMatchObject({ email: 'complainer@example.ru', leadId, suppressed: true });
    expect(await messagesRepo.suppressionOf(app.deps.db, 'complainer@example.ru')).toBe('complained');
    const soft = await lead('soft@example.ru');
    expect(await recorder.record({ email: 'soft@example.ru', type: 'soft_bounce' }, 'test')).toMatchObject({ leadId: soft, suppressed: false });
    expect(await messagesRepo.suppressionOf(app.deps.db, 'soft@example.ru')).toBeNull();
    expect((await app.services.leads.timeline(leadId)).map((e) => e.type)).toContain('email_complained');
    expect((await app.services.leads.timeline(soft)).find((e) => e.type === 'email_bounced')?.properties).toEqual({ email: 'soft@example.ru', soft: true, via: 'webhook' });
  });

  it('refuses reports that name nothing we know, and validates the shape', async () => {
    const recorder = createBounceRecorder(app.deps);
    await expect(recorder.record({ messageId: '<nope@x>', type: 'hard_bounce' }, 'test')).rejects.toBeInstanceOf(NotFoundError);
    expect(bounceReportSchema.safeParse({ type: 'hard_bounce' }).success).toBe(false);
    expect(bounceReportSchema.safeParse({ email: 'a@b.ru', type: 'deleted' }).success).toBe(false);
    expect(bounceReportSchema.safeParse({ email: 'a@b.ru', type: 'complaint', extra: 1 }).success).toBe(false);
  });
});
