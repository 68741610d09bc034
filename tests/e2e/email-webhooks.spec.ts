/**
 * The bounce/complaint webhook over real HTTP against the built server: a provider calls it with
 * an API key; the address is suppressed and the lead's timeline shows the complaint.
 */
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { ensureAdmin } from './support/auth';

test.describe.configure({ mode: 'serial' });

let page: Page;
let apiKey = '';
const run = Date.now().toString(36);
const email = `bounce-${run}@example.ru`;
const WEBHOOK = '/api/email-webhooks/bounce';

const post = (request: APIRequestContext, path: string, data: unknown, headers: Record<string, string> = {}) =>
  request.post(path, { data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)), headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...headers } });

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await ensureAdmin(page);
  await page.goto('/settings/api-keys');
  await page.getByLabel(/^(Name|Название)$/).fill(`ESP webhook ${run}`);
  await page.getByRole('button', { name: /create key|создать ключ/i }).click();
  await expect(page.getByTestId('new-key')).toHaveValue(/^nrt_/);
  apiKey = await page.getByTestId('new-key').inputValue();
});
test.afterAll(async () => {
  await page.close();
});

test('refuses callers without a key, wrong types, bad shapes and oversized bodies', async ({ request }) => {
  const noKey = await request.post(WEBHOOK, { data: Buffer.from(JSON.stringify({ email, type: 'complaint' })), headers: { 'content-type': 'application/json' } });
  expect(noKey.status()).toBe(401);
  expect(await noKey.json()).toMatchObject({ error: 'unauthorized' });
  expect((await post(request, WEBHOOK, { email, type: 'complaint' }, { authorization: 'Bearer nrt_00000000_nope' })).status()).toBe(401);

  expect((await post(request, WEBHOOK, '{"type":', {})).status()).toBe(400);
  const shape = await post(request, WEBHOOK, { type: 'exploded', extra: true });
  expect(shape.status()).toBe(400);
  const fields = ((await shape.json()).issues as { field: string }[]).map((i) => i.field).sort();
  expect(fields).toEqual(expect.arrayContaining(['type']));

  expect((await post(request, WEBHOOK, { email, type: 'complaint', detail: 'x'.repeat(20_000) })).status()).toBe(413);
  const unknown = await post(request, WEBHOOK, { messageId: '<nothing-we-sent@example.ru>', type: 'hard_bounce' });
  expect(unknown.status()).toBe(404);
  expect(await unknown.json()).toMatchObject({ error: 'not_found' });
});

test('a complaint suppresses the address once and shows on the lead timeline', async ({ request }) => {
  const lead = await post(request, '/api/v1/leads', { email, name: 'Ольга Жалобная' });
  expect(lead.status()).toBe(201);
  const { id } = await lead.json();

  const first = await post(request, WEBHOOK, { email: email.toUpperCase(), type: 'complaint', detail: 'abuse report via FBL' });
  expect(first.status()).toBe(200);
  expect(await first.json()).toEqual({ ok: true, email, messageId: null, leadId: id, suppressed: true });
  // Providers retry webhooks: the repeat changes nothing
  const again = await post(request, WEBHOOK, { email, type: 'complaint' });
  expect(await again.json()).toMatchObject({ ok: true, suppressed: false });

  await page.goto(`/leads/${id}`);
  const events = page.locator('[data-testid="timeline"] li[data-type="email_complained"]');
  await expect(events).toHaveCount(1);
  await page.screenshot({ path: '/tmp/smtp-webhook-timeline.png', fullPage: true });
});
