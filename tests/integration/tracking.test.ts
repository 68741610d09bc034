/**
 * Opens, clicks, unsubscribes and preferences on a real migrated SQLite, through the tracking
 * service and, for the HTTP rules (404 on a bad token, GET vs POST unsubscribe, no open redirect),
 * through the raw Node handler `npm start` serves them with, over real HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { signToken, verifyToken } from '../../src/lib/server/email/tokens';
import { applyTracking } from '../../src/lib/server/email/tracking';
import { classifyClick, classifyOpen } from '../../src/lib/server/email/machine-detect';
import { createNodeTrackHandler } from '../../src/lib/server/http/tracking-node';

const SECRET = 'test-tracking-secret-0123456789';
const PUBLIC = 'https://mail.example.ru';
const HOUR = 3_600_000;
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const system = { id: null, label: 'test' };
let app: TestApp;

beforeEach(async () => {
  app = await createTestApp({ TRACKING_SECRET: SECRET, PUBLIC_URL: PUBLIC });
});
afterEach(() => app.close());

const tracking = () => app.services.tracking;
const db = () => app.deps.db;

async function lead(email: string, consentTracking = true) {
  const r = await app.services.capture.capture({ input: parseLeadInput({ email, name: 'Ольга Смирнова', consent_marketing: true, consent_tracking: consentTracking }), source: 'api', actor: system });
  return r.leadId;
}

let seq = 0;
/** A sent message row, as the send pipeline leaves it after the SMTP answer. */
async function message(leadId: string | null, to: string, extra: { workflow_id?: string; node_id?: string } = {}) {
  const id = app.deps.ids.newId();
  const now = app.clock.now();
  await db()
    .insertInto('messages')
    .values({
      id,
      message_key: `test:${++seq}`,
      lead_id: leadId,
      template: 'promo',
      workflow_id: extra.workflow_id ?? null,
      node_id: extra.node_id ?? null,
      to_address: to,
      subject: 'Весенняя акция',
      kind: 'marketing',
      status: 'sent',
      status_reason: null,
      smtp_message_id: null,
      smtp_response: '250 OK',
      attempts: 1,
      created_at: now,
      sent_at: now,
      first_open_at: null,
      first_click_at: null,
      opens: 0,
      machine_opens: 0,
      clicks: 0,
      machine_clicks: 0,
      attempt_started_at: now
    })
    .execute();
  return id;
}

const HTML = `<html><body><p>Привет!</p>
<a href="https://shop.example.ru/sale?x=1&amp;y=2">Скидки</a>
<a class="btn" href='https://blog.example.ru/post'>Блог</a>
<a href="https://shop.example.ru/sale?x=1&amp;y=2">Ещё раз</a>
<a href="mailto:hi@example.ru">Написать</a>
<a href="${PUBLIC}/u/TOKEN">Отписаться</a>
</body></html>`;
const TEXT = 'Скидки (https://shop.example.ru/sale?x=1&y=2). Блог: https://blog.example.ru/post\nОтписаться: ' + PUBLIC + '/u/TOKEN';

async function tracked(messageId: string, trackingAllowed = true, utm?: Record<string, string>) {
  return tracking().apply({ messageId, html: HTML, text: TEXT, trackingAllowed, utm });
}
const clickTokens = (html: string) => [...html.matchAll(/\/t\/c\/([A-Za-z0-9_-]+)/g)].map((m) => m[1]);
const openToken = (html: string) => /\/t\/o\/([A-Za-z0-9_-]+)/.exec(html)?.[1];

async function counters(id: string) {
  return db().selectFrom('messages').select(['opens', 'machine_opens', 'clicks', 'machine_clicks', 'first_open_at', 'first_click_at']).where('id', '=', id).executeTakeFirstOrThrow();
}
async function eventsOf(leadId: string, type?: string) {
  const all = await app.services.leads.timeline(leadId);
  return all.filter((e) => !type || e.type === type).reverse();
}

/** The raw Node handler on a real port; whatever it declines answers 418 so the test can tell. */
async function serveFastPath() {
  const handler = createNodeTrackHandler(() => app);
  const server = http.createServer((req, res) => {
    if (!handler(req, res)) {
      res.statusCode = 418;
      res.end('declined');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('tokens', () => {
  it('round-trips, and anything tampered, foreign or expired is null', () => {
    const now = Date.UTC(2026, 0, 12);
    const t = signToken(SECRET, { kind: 'c', messageId: '0194a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', linkId: '0194a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c' }, now);
    expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(t).not.toContain('@');
    expect(verifyToken(SECRET, t, now)).toEqual({ kind: 'c', messageId: '0194a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', linkId: '0194a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c', issuedAt: now });
    // Every single-character change anywhere in the token is refused.
    for (let i = 0; i < t.length; i++) {
      const swapped = t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
      expect(verifyToken(SECRET, swapped, now)).toBeNull();
    }
    expect(verifyToken('another-secret-0123456789', t, now)).toBeNull();
    expect(verifyToken(SECRET, t.slice(0, -1), now)).toBeNull();
    expect(verifyToken(SECRET, t + 'A', now)).toBeNull();
    expect(verifyToken(SECRET, t, now + 367 * 86_400_000)).toBeNull();
    expect(verifyToken(SECRET, t, now - HOUR)).toBeNull(); // issued an hour in the future
    for (const junk of ['', '!!!', 'a'.repeat(5000), '../../etc/passwd', 'AAAA']) expect(verifyToken(SECRET, junk, now)).toBeNull();
    // Non-UUID ids are carried too.
    const o = signToken(SECRET, { kind: 'o', messageId: 'msg-1' }, now);
    expect(verifyToken(SECRET, o, now)).toMatchObject({ kind: 'o', messageId: 'msg-1' });
  });

  it('generates a secret once and keeps it in settings when TRACKING_SECRET is unset', async () => {
    const other = await createTestApp();
    try {
      const a = (await other.services.tracking.keys()).secret;
      expect(a.length).toBeGreaterThanOrEqual(32);
      expect((await other.services.tracking.keys()).secret).toBe(a);
      const row = await other.deps.db.selectFrom('settings').select('value').where('key', '=', 'tracking.secret').executeTakeFirstOrThrow();
      expect(JSON.parse(row.value)).toBe(a);
    } finally {
      await other.close();
    }
  });
});

describe('link rewriting', () => {
  it('stores each distinct link once, rewrites HTML and text, adds the pixel and the unsubscribe headers', async () => {
    const leadId = await lead('olga@example.ru');
    const id = await message(leadId, 'olga@example.ru');
    const out = await tracked(id, true, { utm_source: 'nurture', utm_campaign: 'весна' });

    const links = await db().selectFrom('message_links').selectAll().where('message_id', '=', id).orderBy('position').execute();
    expect(links.map((l) => l.url)).toEqual([
      'https://shop.example.ru/sale?x=1&y=2&utm_source=nurture&utm_campaign=%D0%B2%D0%B5%D1%81%D0%BD%D0%B0',
      'https://blog.example.ru/post?utm_source=nurture&utm_campaign=%D0%B2%D0%B5%D1%81%D0%BD%D0%B0'
    ]);
    expect(out.html).not.toContain('shop.example.ru');
    expect(out.html).not.toContain('blog.example.ru');
    expect(clickTokens(out.html)).toHaveLength(3);
    expect(out.html).toContain('href="mailto:hi@example.ru"');
    expect(out.html).toContain(`href="${PUBLIC}/u/TOKEN"`); // our own unsubscribe link is not a click
    expect(out.html).toMatch(new RegExp(`<img src="${PUBLIC}/t/o/[A-Za-z0-9_-]+" width="1" height="1"[^>]*/></body>`));
    expect(out.text).toMatch(new RegExp(`^Скидки \\(${PUBLIC}/t/c/[A-Za-z0-9_-]+\\)\\. Блог: ${PUBLIC}/t/c/[A-Za-z0-9_-]+\\nОтписаться: ${PUBLIC}/u/TOKEN$`));
    expect(out.text).not.toContain('example.ru/post');
    expect(out.headers['List-Unsubscribe']).toMatch(new RegExp(`^<${PUBLIC}/u/[A-Za-z0-9_-]+>, <mailto:unsubscribe@mail\\.example\\.ru\\?subject=unsubscribe-[A-Za-z0-9_-]+>$`));
    expect(out.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(JSON.stringify(out)).not.toContain('olga@example.ru');

    const urls = await tracking().unsubscribeUrls(id);
    expect(urls.unsubscribeUrl).toBe(`${PUBLIC}/u/${urls.token}`);
    expect(urls.preferencesUrl).toBe(`${PUBLIC}/u/${urls.token}/preferences`);
    const transactional = await tracking().apply({ messageId: id, html: '<p>x</p>', text: 'x', trackingAllowed: false, kind: 'transactional' });
    expect(transactional.headers).toEqual({});
  });

  it('redirects only to stored links of the same message; forged or tampered tokens record nothing', async () => {
    const leadId = await lead('olga@example.ru');
    const id = await message(leadId, 'olga@example.ru');
    const other = await message(leadId, 'olga@example.ru');
    const [shop, blog] = clickTokens((await tracked(id)).html);
    const otherLinks = clickTokens((await tracked(other)).html);
    app.clock.advance(HOUR);
    const srv = await serveFastPath();
    try {
      // Minutes apart: two links within two seconds would be a scanner's sweep.
      const r = await fetch(`${srv.base}/t/c/${blog}`, { redirect: 'manual', headers: { 'user-agent': BROWSER } });
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toBe('https://blog.example.ru/post');
      expect(r.headers.get('cache-control')).toContain('no-store');
      app.clock.advance(5 * 60_000);
      expect(await tracking().recordClick(shop, { userAgent: BROWSER })).toBe('https://shop.example.ru/sale?x=1&y=2');
      app.clock.advance(5 * 60_000);

      // A correctly signed token naming another message's link: not a link of this message.
      const otherLinkId = verifyToken(SECRET, otherLinks[0], app.clock.now())!.linkId!;
      const forged = signToken(SECRET, { kind: 'c', messageId: id, linkId: otherLinkId }, app.clock.now());
      const madeUp = signToken(SECRET, { kind: 'c', messageId: id, linkId: 'https://evil.example.com' }, app.clock.now());
      const tampered = blog.slice(0, -2) + (blog.endsWith('AA') ? 'BB' : 'AA');
      const openAsClick = openToken((await tracked(id)).html)!;
      for (const t of [forged, madeUp, tampered, openAsClick, 'x']) {
        const bad = await fetch(`${srv.base}/t/c/${t}`, { redirect: 'manual' });
        expect(bad.status).toBe(404);
        expect(bad.headers.get('location')).toBeNull();
      }
      expect((await fetch(`${srv.base}/t/o/${tampered}`)).status).toBe(404);
      expect((await fetch(`${srv.base}/t/c/${blog}?url=https://evil.example.com`, { redirect: 'manual', headers: { 'user-agent': BROWSER } })).headers.get('location')).toBe('https://blog.example.ru/post');
    } finally {
      await srv.close();
    }
    expect(await counters(id)).toMatchObject({ clicks: 3, machine_clicks: 0, opens: 0 });
    expect(await counters(other)).toMatchObject({ clicks: 0, machine_clicks: 0 });
    expect(await eventsOf(leadId, 'email_clicked')).toHaveLength(3);
  });

  it('without tracking consent leaves links alone, adds no pixel and stores no links', async () => {
    const leadId = await lead('private@example.ru', false);
    const id = await message(leadId, 'private@example.ru');
    const plain = await tracked(id, false);
    expect(plain.html).toBe(HTML);
    expect(plain.text).toBe(TEXT);
    expect(plain.html).not.toContain('/t/');
    expect(await db().selectFrom('message_links').selectAll().where('message_id', '=', id).execute()).toEqual([]);
    expect(plain.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    // UTM tags are campaign labels, not tracking of the person: they still go on the links.
    const tagged = await tracked(id, false, { utm_source: 'nurture' });
    expect(tagged.html).toContain("href='https://blog.example.ru/post?utm_source=nurture'");
    expect(tagged.html).toContain('href="https://shop.example.ru/sale?x=1&amp;y=2&amp;utm_source=nurture"');
  });

  it('works the same for a directly called applyTracking', async () => {
    const id = await message(null, 'test@example.ru');
    const out = await applyTracking(db(), { messageId: id, html: '<a href="https://a.example/">a</a>', text: '', trackingAllowed: true, publicUrl: `${PUBLIC}/`, secret: SECRET });
    expect(out.html).toMatch(new RegExp(`^<a href="${PUBLIC}/t/c/[A-Za-z0-9_-]+">a</a><img src="${PUBLIC}/t/o/`));
  });
});

describe('machine opens and scanner clicks', () => {
  it('classifies by time, agent and address', () => {
    const sentAt = 1_000_000;
    const at = (ms: number, userAgent: string | null = BROWSER, ip: string | null = '203.0.113.5') => ({ now: sentAt + ms, sentAt, userAgent, ip });
    expect(classifyOpen(at(1000))).toEqual({ machine: true, reason: 'too_soon' });
    expect(classifyOpen(at(HOUR, BROWSER, '17.58.1.2'))).toEqual({ machine: true, reason: 'apple_privacy' });
    expect(classifyOpen(at(HOUR, 'Mozilla/5.0'))).toEqual({ machine: true, reason: 'apple_privacy' });
    expect(classifyOpen(at(20_000, 'Mozilla/5.0 (Windows NT 5.1) (via ggpht.com GoogleImageProxy)'))).toEqual({ machine: true, reason: 'image_proxy_prefetch' });
    expect(classifyOpen(at(HOUR, 'Mozilla/5.0 (Windows NT 5.1) (via ggpht.com GoogleImageProxy)')).machine).toBe(false);
    expect(classifyOpen(at(HOUR))).toEqual({ machine: false, reason: null });
    for (const ua of ['curl/8.5.0', 'Mozilla/5.0 (compatible; Proofpoint URL Defense)', 'Barracuda Sentinel (EE)', 'python-requests/2.31', '', null])
      expect(classifyClick({ ...at(HOUR, ua), linkId: 'a', recent: [] }).machine).toBe(true);
    expect(classifyClick({ ...at(1500), linkId: 'a', recent: [] }).reason).toBe('too_soon');
    const sweep = classifyClick({ ...at(HOUR), linkId: 'b', recent: [{ linkId: 'a', at: sentAt + HOUR - 800 }] });
    expect(sweep).toMatchObject({ machine: true, reason: 'link_sweep', sweepOf: [{ linkId: 'a' }] });
    // The same link twice (a double click) or another link later is a person.
    expect(classifyClick({ ...at(HOUR), linkId: 'a', recent: [{ linkId: 'a', at: sentAt + HOUR - 300 }] }).machine).toBe(false);
    expect(classifyClick({ ...at(HOUR), linkId: 'b', recent: [{ linkId: 'a', at: sentAt + HOUR - 5000 }] }).machine).toBe(false);
  });

  it('records machine hits flagged, outside the engagement counters, and undoes a sweep it saw late', async () => {
    const leadId = await lead('scan@example.ru');
    const id = await message(leadId, 'scan@example.ru');
    const out = await tracked(id);
    const pixel = openToken(out.html)!;
    const [shop, blog] = clickTokens(out.html);

    app.clock.advance(1000);
    expect(await tracking().recordOpen(pixel, { userAgent: BROWSER })).toBe(true); // prefetch on delivery
    app.clock.advance(HOUR);
    expect(await tracking().recordOpen(pixel, { userAgent: BROWSER, ip: '17.1.2.3' })).toBe(true); // Apple MPP
    expect(await counters(id)).toMatchObject({ opens: 0, machine_opens: 2, first_open_at: null });
    const humanAt = app.clock.now() + 60_000;
    app.clock.set(humanAt);
    expect(await tracking().recordOpen(pixel, { userAgent: BROWSER, ip: '198.51.100.7' })).toBe(true);
    expect(await counters(id)).toMatchObject({ opens: 1, machine_opens: 2, first_open_at: humanAt });

    // A gateway follows every link at once: the first looks human until the second arrives.
    expect(await tracking().recordClick(shop, { userAgent: BROWSER })).not.toBeNull();
    expect(await counters(id)).toMatchObject({ clicks: 1, first_click_at: humanAt });
    app.clock.advance(400);
    expect(await tracking().recordClick(blog, { userAgent: BROWSER })).not.toBeNull();
    expect(await counters(id)).toMatchObject({ clicks: 0, machine_clicks: 2, first_click_at: null });
    expect(await tracking().recordClick(shop, { userAgent: 'Microsoft Office Existence Discovery / Safe Links' })).not.toBeNull();
    expect(await counters(id)).toMatchObject({ clicks: 0, machine_clicks: 3 });

    app.clock.advance(10 * 60_000);
    const personAt = app.clock.now();
    await tracking().recordClick(blog, { userAgent: BROWSER });
    expect(await counters(id)).toMatchObject({ clicks: 1, machine_clicks: 3, first_click_at: personAt });

    const clicks = await eventsOf(leadId, 'email_clicked');
    expect(clicks.map((e) => [e.properties.machine, e.properties.machineReason ?? null])).toEqual([
      [true, 'link_sweep'],
      [true, 'link_sweep'],
      [true, 'scanner_agent'],
      [false, null]
    ]);
    const opens = await eventsOf(leadId, 'email_opened');
    expect(opens.map((e) => e.properties.machineReason ?? null)).toEqual(['too_soon', 'apple_privacy', null]);
  });
});

describe('events and the workflow engine', () => {
  it('an open becomes an email_opened event on the lead timeline', async () => {
    const leadId = await lead('open@example.ru');
    const id = await message(leadId, 'open@example.ru', { workflow_id: 'wf-1', node_id: 'e1' });
    const pixel = openToken((await tracked(id)).html)!;
    app.clock.advance(HOUR);
    const srv = await serveFastPath();
    try {
      const r = await fetch(`${srv.base}/t/o/${pixel}`, { headers: { 'user-agent': BROWSER } });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/gif');
      expect(r.headers.get('cache-control')).toContain('no-store');
      expect(Buffer.from(await r.arrayBuffer()).subarray(0, 6).toString()).toBe('GIF89a');
    } finally {
      await srv.close();
    }
    const [e] = await eventsOf(leadId, 'email_opened');
    expect(e).toMatchObject({ leadId, source: 'email', occurredAt: app.clock.now(), properties: { messageId: id, workflowId: 'wf-1', nodeId: 'e1', machine: false } });
  });

  it('a click resumes a flow waiting in wait_until email_clicked', async () => {
    const { workflowId } = await app.services.engine.publish(system, {
      slug: 'click-wait',
      name: 'Wait for a click',
      trigger: { type: 'event', eventType: 'promo_sent' },
      start: 'wait',
      nodes: {
        wait: { kind: 'wait_until', eventType: 'email_clicked', filter: { machine: false }, timeout: { amount: 3, unit: 'days' }, next: 'hot', timeoutNext: 'end' },
        hot: { kind: 'set_stage', stage: 'mql', next: 'end' },
        end: { kind: 'exit' }
      }
    });
    const leadId = await lead('wait@example.ru');
    await app.services.events.ingest(system, { leadId, type: 'promo_sent', properties: {} });
    await app.services.engine.runUntilIdle();
    const inst = () => db().selectFrom('workflow_instances').selectAll().where('lead_id', '=', leadId).where('workflow_id', '=', workflowId).executeTakeFirstOrThrow();
    expect((await inst()).current_node).toBe('wait');

    const id = await message(leadId, 'wait@example.ru', { workflow_id: workflowId, node_id: 'e1' });
    const [shop] = clickTokens((await tracked(id)).html);
    // A scanner's click is recorded but does not move the flow (the filter asks for a person).
    await tracking().recordClick(shop, { userAgent: 'curl/8.5.0' });
    await app.services.engine.runUntilIdle();
    expect((await inst()).current_node).toBe('wait');
    app.clock.advance(HOUR);
    expect(await tracking().recordClick(shop, { userAgent: BROWSER })).toBe('https://shop.example.ru/sale?x=1&y=2');
    await app.services.engine.runUntilIdle();
    expect(await inst()).toMatchObject({ status: 'exited', current_node: 'end' });
    expect((await db().selectFrom('leads').select('stage').where('id', '=', leadId).executeTakeFirstOrThrow()).stage).toBe('mql');
  });
});

describe('unsubscribe and preferences', () => {
  async function unsubToken(leadId: string | null, email: string) {
    const id = await message(leadId, email);
    return { id, token: (await tracking().unsubscribeUrls(id)).token };
  }
  const suppression = (email: string) => db().selectFrom('suppressions').selectAll().where('email', '=', email).executeTakeFirst();
  const consent = async (id: string) => (await db().selectFrom('leads').select('consent_marketing').where('id', '=', id).executeTakeFirstOrThrow()).consent_marketing;

  it('a GET changes nothing; the RFC 8058 POST unsubscribes at once, once', async () => {
    const leadId = await lead('Unsub@Example.ru');
    const { token } = await unsubToken(leadId, 'unsub@example.ru');
    const srv = await serveFastPath();
    try {
      // GET is not the fast path's: SvelteKit shows the confirmation page, whose load only reads.
      expect((await fetch(`${srv.base}/u/${token}`)).status).toBe(418);
      expect(await tracking().preferences(token)).toMatchObject({ maskedEmail: 'un***@example.ru', unsubscribed: false });
      expect(await suppression('unsub@example.ru')).toBeUndefined();
      expect(await consent(leadId)).toBe(1);

      const post = (t: string, body: string, type = 'application/x-www-form-urlencoded') => fetch(`${srv.base}/u/${t}`, { method: 'POST', headers: { 'content-type': type }, body, redirect: 'manual' });
      expect((await post(token, 'List-Unsubscribe=Nope')).status).toBe(400);
      expect((await post(token, 'List-Unsubscribe=One-Click', 'text/plain')).status).toBe(400);
      expect((await post(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'), 'List-Unsubscribe=One-Click')).status).toBe(404);
      expect(await suppression('unsub@example.ru')).toBeUndefined();

      const ok = await post(token, 'List-Unsubscribe=One-Click');
      expect(ok.status).toBe(200);
      expect(await suppression('unsub@example.ru')).toMatchObject({ reason: 'unsubscribed' });
      expect(await consent(leadId)).toBe(0);
      // The page's own button answers with a redirect back to the page; nothing new is recorded.
      const again = await post(token, 'List-Unsubscribe=One-Click&via=page');
      expect(again.status).toBe(303);
      expect(again.headers.get('location')).toBe(`/u/${token}`);
      const multipart = `--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n`;
      expect((await post(token, multipart, 'multipart/form-data; boundary=b')).status).toBe(200);
    } finally {
      await srv.close();
    }
    const events = await eventsOf(leadId, 'unsubscribed');
    expect(events).toHaveLength(1);
    expect(events[0].properties).toMatchObject({ via: 'one_click' });
    expect(await tracking().preferences(token)).toMatchObject({ unsubscribed: true });
    expect(await tracking().sendBlock({ email: 'unsub@example.ru', leadId, kind: 'marketing' })).toBe('suppressed:unsubscribed');
    // A transactional email (a form confirmation) is not stopped by a marketing unsubscribe.
    expect(await tracking().sendBlock({ email: 'unsub@example.ru', leadId, kind: 'transactional' })).toBeNull();
  });

  it('the preference page turns topics off, unsubscribes from all and back, each change on the timeline', async () => {
    await db()
      .insertInto('email_templates')
      .values(['news', 'webinars', 'news'].map((topic, i) => ({ id: `t${i}`, slug: `t${i}`, name: `t${i}`, subject: 's', body: 'b', locale: 'ru', updated_at: 0, topic })))
      .execute();
    const leadId = await lead('prefs@example.ru');
    const { token } = await unsubToken(leadId, 'prefs@example.ru');
    expect(await tracking().preferences(token)).toEqual({
      maskedEmail: 'pr***@example.ru',
      unsubscribed: false,
      topics: [
        { topic: 'news', subscribed: true },
        { topic: 'webinars', subscribed: true }
      ]
    });

    expect(await tracking().savePreferences(token, { all: true, subscribedTopics: ['news', 'made-up'] })).toBe(true);
    expect((await tracking().preferences(token))!.topics).toEqual([
      { topic: 'news', subscribed: true },
      { topic: 'webinars', subscribed: false }
    ]);
    expect(await tracking().sendBlock({ email: 'prefs@example.ru', leadId, topic: 'webinars', kind: 'marketing' })).toBe('topic_off:webinars');
    expect(await tracking().sendBlock({ email: 'prefs@example.ru', leadId, topic: 'news', kind: 'marketing' })).toBeNull();

    await tracking().savePreferences(token, { all: false, subscribedTopics: ['news'] });
    expect(await suppression('prefs@example.ru')).toMatchObject({ reason: 'unsubscribed' });
    expect(await consent(leadId)).toBe(0);
    await tracking().savePreferences(token, { all: true, subscribedTopics: ['news', 'webinars'] });
    expect(await suppression('prefs@example.ru')).toBeUndefined();
    expect(await consent(leadId)).toBe(1);
    expect(await tracking().sendBlock({ email: 'prefs@example.ru', leadId, topic: 'webinars', kind: 'marketing' })).toBeNull();

    const timeline = (await eventsOf(leadId)).filter((e) => ['email_preferences_changed', 'unsubscribed', 'resubscribed'].includes(e.type));
    expect(timeline.map((e) => [e.type, e.properties.changes ?? e.properties.via])).toEqual([
      ['email_preferences_changed', { webinars: false }],
      ['unsubscribed', 'preferences'],
      ['resubscribed', 'preferences'],
      ['email_preferences_changed', { webinars: true }]
    ]);
    expect(await tracking().savePreferences('bad-token', { all: false, subscribedTopics: [] })).toBe(false);
  });

  it('a bounce is never lifted by the preference page', async () => {
    const leadId = await lead('bounced@example.ru');
    const { token } = await unsubToken(leadId, 'bounced@example.ru');
    await db().insertInto('suppressions').values({ email: 'bounced@example.ru', reason: 'bounced', source: 'smtp', created_at: 0 }).execute();
    await tracking().savePreferences(token, { all: true, subscribedTopics: [] });
    expect(await suppression('bounced@example.ru')).toMatchObject({ reason: 'bounced' });
    expect(await tracking().sendBlock({ email: 'bounced@example.ru', leadId, kind: 'transactional' })).toBe('suppressed:bounced');
  });
});
