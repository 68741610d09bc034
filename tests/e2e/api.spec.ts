/**
 * The REST API end to end against the built server: an admin makes a key in the UI, reads it off
 * the page once, and both endpoints are called over real HTTP with it (and without it, revoked,
 * oversized, mistyped and invalid bodies).
 */
import http from 'node:http';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { ensureAdmin, signIn } from './support/auth';

test.describe.configure({ mode: 'serial' });

let page: Page;
let apiKey = '';
const run = Date.now().toString(36);
const email = `api-${run}@example.ru`;

/** Raw bytes: Playwright would re-encode a string that is not valid JSON as a JSON string. */
const post = (request: APIRequestContext, path: string, data: unknown, headers: Record<string, string> = {}) =>
  request.post(path, { data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)), headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...headers } });

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await ensureAdmin(page);
});
test.afterAll(async () => {
  await page.close();
});

test('an admin creates an API key in the UI and sees it exactly once', async () => {
  await page.goto('/settings/api-keys');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/API keys|API-ключи/);
  await page.getByLabel(/^(Name|Название)$/).fill(`E2E CRM ${run}`);
  await page.getByRole('button', { name: /create key|создать ключ/i }).click();
  const box = page.getByTestId('new-key');
  await expect(box).toHaveValue(/^nrt_[0-9a-f]{8}_/);
  apiKey = await box.inputValue();
  const prefix = apiKey.split('_').slice(0, 2).join('_');
  await expect(page.getByTestId('created-key')).toContainText(/shown only once|только один раз/);
  const row = page.getByRole('row', { name: new RegExp(`E2E CRM ${run}`) });
  await expect(row).toContainText(prefix);
  await expect(row).toContainText(/Active|Действует/);
  // The help block shows the prefix, never the secret.
  const help = page.getByRole('region', { name: /how to call the api|как вызывать api/i });
  await expect(help).toContainText(`Bearer ${prefix}_…`);
  await expect(help).not.toContainText(apiKey);
  await page.screenshot({ path: '/tmp/api-keys-created.png', fullPage: true });

  await page.reload();
  await expect(page.getByTestId('new-key')).toHaveCount(0);
  expect(await page.content()).not.toContain(apiKey);
});

test('POST /api/v1/leads creates, then merges by email or phone', async ({ request }) => {
  const first = await post(request, '/api/v1/leads', { email, name: 'Иван Петров', channel: 'CRM', utm: { utm_source: 'crm', utm_campaign: 'весна' } });
  expect(first.status()).toBe(201);
  expect(first.headers()['content-type']).toMatch(/application\/json/);
  const a = await first.json();
  expect(a).toEqual({ id: expect.any(String), created: true, merged: false });

  const again = await post(request, '/api/v1/leads', { email: email.toUpperCase(), phone: '+7 916 700-11-22', company: 'Вектор' });
  expect(again.status()).toBe(200);
  expect(await again.json()).toEqual({ id: a.id, created: false, merged: true });

  const byPhone = await post(request, '/api/v1/leads', { phone: '8 (916) 700-11-22', job_title: 'CEO' });
  expect(byPhone.status()).toBe(200);
  expect((await byPhone.json()).id).toBe(a.id);
});

test('POST /api/v1/events stores once per idempotency key, and keeps unknown emails unmatched', async ({ request }) => {
  const body = { email, type: 'demo_requested', properties: { plan: 'pro' }, idempotencyKey: `crm-${run}-1` };
  const one = await post(request, '/api/v1/events', body);
  expect(one.status()).toBe(202);
  const r1 = await one.json();
  expect(r1).toEqual({ eventId: expect.any(String), leadId: expect.any(String), duplicate: false });

  const two = await post(request, '/api/v1/events', body);
  expect(two.status()).toBe(202);
  expect(await two.json()).toEqual({ ...r1, duplicate: true });

  const stranger = await post(request, '/api/v1/events', { email: `nobody-${run}@nowhere.ru`, type: 'page_viewed', occurredAt: '2026-01-10T10:00:00+03:00' });
  expect(stranger.status()).toBe(202);
  expect(await stranger.json()).toMatchObject({ leadId: null, duplicate: false });

  const byId = await post(request, '/api/v1/events', { leadId: r1.leadId, type: 'call.completed' });
  expect((await byId.json()).leadId).toBe(r1.leadId);
});

test('bad requests are refused as JSON: 401, 415, 400 with field paths, 413', async ({ request }) => {
  for (const auth of [undefined, 'Bearer nrt_00000000_not-a-real-key', 'Basic abc', `Bearer ${apiKey}x`]) {
    const res = await request.post('/api/v1/events', { data: JSON.stringify({ email, type: 'x' }), headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) } });
    expect(res.status(), String(auth)).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized' });
  }

  const xml = await post(request, '/api/v1/leads', '<lead/>', { 'content-type': 'application/xml' });
  expect(xml.status()).toBe(415);
  expect(await xml.json()).toMatchObject({ error: 'unsupported_media_type' });

  // Form-like types (text/plain here) are refused like any other non-JSON type. (Under SvelteKit,
  // e.g. `vite dev`, its CSRF guard would answer 403 first; `npm start` serves the API directly.)
  const plain = await post(request, '/api/v1/leads', JSON.stringify({ email: `plain-${run}@example.ru` }), { 'content-type': 'text/plain', accept: 'application/json' });
  expect(plain.status()).toBe(415);
  expect(await plain.json()).toMatchObject({ error: 'unsupported_media_type' });

  const broken = await post(request, '/api/v1/leads', '{"email": ');
  expect(broken.status()).toBe(400);
  expect(await broken.json()).toMatchObject({ error: 'invalid_json' });

  const invalid = await post(request, '/api/v1/leads', { email: 'not-an-email', phone: 12, utm: { utm_source: 5 }, colour: 'red' });
  expect(invalid.status()).toBe(400);
  const issues = (await invalid.json()).issues as { field: string; message: string }[];
  expect(issues.map((i) => i.field).sort()).toEqual(['colour', 'email', 'phone', 'utm.utm_source']);

  const badEvent = await post(request, '/api/v1/events', { type: 'Not Valid', properties: [] });
  expect(badEvent.status()).toBe(400);
  expect(((await badEvent.json()).issues as { field: string }[]).map((i) => i.field).sort()).toEqual(['email', 'properties', 'type']);

  const reserved = await post(request, '/api/v1/events', { email, type: 'lead_created' });
  expect(reserved.status()).toBe(400);
  expect((await reserved.json()).issues).toEqual([{ field: 'type', message: expect.stringMatching(/reserved/) }]);

  const big = await post(request, '/api/v1/events', { email, type: 'big', properties: { blob: 'x'.repeat(70 * 1024) } });
  expect(big.status()).toBe(413);
  expect(await big.json()).toMatchObject({ error: 'payload_too_large' });
});

test('a chunked body without Content-Length is capped while it is read', async ({ baseURL }) => {
  const url = new URL('/api/v1/events', baseURL);
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, 'transfer-encoding': 'chunked' } }, (res) => {
      answered = true;
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    // The server may close the socket while we are still writing: fine once the answer came.
    req.on('error', (e) => (answered ? undefined : reject(e)));
    req.write(`{"email":"${email}","type":"big","properties":{"blob":"`);
    for (let i = 0; i < 10; i++) req.write('y'.repeat(8 * 1024));
    req.end('"}}');
  });
  expect(status).toBe(413);
  expect(JSON.parse(body)).toMatchObject({ error: 'payload_too_large' });
});

test('a revoked key is refused at once; the UI asks before revoking', async ({ request }) => {
  await page.goto('/settings/api-keys');
  const row = page.getByRole('row', { name: new RegExp(`E2E CRM ${run}`) });
  // The calls above stamped "last used" (column 4) with a date.
  await expect(row.getByRole('cell').nth(3)).not.toHaveText(/never|ни разу/);
  await row.getByRole('button', { name: /revoke|отозвать/i }).click();
  await expect(row).toContainText(/Systems using it get 401|начнут получать 401/);
  await row.getByRole('button', { name: /yes, revoke|да, отозвать/i }).click();
  await expect(row).toContainText(/Revoked|Отозван/);
  const res = await post(request, '/api/v1/leads', { email });
  expect(res.status()).toBe(401);
});

test('a non-admin gets a 403 page for API keys', async ({ browser, baseURL }) => {
  const marketer = `api-marketer-${run}@nurture.test`;
  const made = await page.request.post('/api/trpc/users.create', { data: { email: marketer, name: 'E2E Marketer', password: 'e2e-password-123', role: 'marketer' } });
  expect(made.ok()).toBe(true);
  const ctx = await browser.newContext({ baseURL });
  const p = await ctx.newPage();
  await signIn(p, marketer, 'e2e-password-123');
  const res = await p.goto('/settings/api-keys');
  expect(res?.status()).toBe(403);
  await expect(p.getByRole('alert')).toContainText(/Only admins|только администраторы/i);
  await p.screenshot({ path: '/tmp/api-keys-403.png' });
  await ctx.close();
});
