/**
 * Hosted forms end to end: a marketer builds a form, a visitor submits it on the hosted page
 * (with UTM tags, a bad email first), and a plain HTML page on another origin embeds the
 * snippet and submits through the public JSON endpoint. Leads are checked through tRPC.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { ensureAdmin } from './support/auth';

test.describe.configure({ mode: 'serial' });

const EMBED_PORT = Number(process.env.E2E_EMBED_PORT ?? 4212);
const run = Date.now().toString(36);
const slug = `e2e-${run}`;
let page: Page;
let hostedUrl = '';
let snippet = '';
let embedServer: http.Server | undefined;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await ensureAdmin(page);
});
test.afterAll(async () => {
  await page.close();
  await new Promise<void>((resolve) => (embedServer ? embedServer.close(() => resolve()) : resolve()));
});

/** Leads matching a search, read through tRPC with the admin's session cookie. */
async function findLeads(search: string) {
  const input = encodeURIComponent(JSON.stringify({ search }));
  const res = await page.request.get(`/api/trpc/leads.list?input=${input}`);
  expect(res.status()).toBe(200);
  const body = (await res.json()) as { result: { data: { total: number; items: { email: string; name: string; channelName: string | null }[] } } };
  return body.result.data;
}

test('a marketer builds a form with a live preview and gets its link and snippet', async () => {
  await page.goto('/forms');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/Forms|Формы/);
  await page.getByTestId('new-form').click();
  await expect(page).toHaveURL(/\/forms\/new$/);

  await page.getByLabel(/Internal name|Внутреннее название/).fill(`E2E demo ${run}`);
  await page.getByLabel(/Address \(slug\)|Адрес/).fill(slug);
  // Saving without a title shows the server's refusal beside the title.
  await page.getByTestId('save-form').click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.locator('#form-title ~ .error')).toHaveText(/required/);

  await page.getByLabel(/Title visitors see|Заголовок для посетителей/).fill('Запросить демо');
  await page.getByTestId('add-field').click();
  const rows = page.getByTestId('field-row');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(2).getByTestId('field-key')).toHaveValue('phone');
  await rows.nth(2).getByTestId('field-label').fill('Телефон');
  await page.getByLabel(/Consent checkbox text|Текст согласия/).fill('I agree to receive emails about the product');
  await page.getByLabel(/Thank-you text|Текст благодарности/).fill(`Thanks, we got it ${run}`);

  const preview = page.getByTestId('preview');
  await expect(preview.getByRole('heading')).toHaveText('Запросить демо');
  await expect(preview.getByLabel('Телефон')).toBeVisible();
  await expect(preview.getByText('I agree to receive emails about the product')).toBeVisible();
  await page.screenshot({ path: '/tmp/forms-builder.png', fullPage: true });

  await page.getByTestId('save-form').click();
  await expect(page).toHaveURL(/\/forms\/[0-9a-f-]+\?created=1$/);
  await expect(page.getByTestId('saved-notice')).toBeVisible();
  hostedUrl = await page.getByTestId('hosted-url').inputValue();
  snippet = await page.getByTestId('embed-snippet').inputValue();
  await page.screenshot({ path: '/tmp/forms-saved.png' });
  expect(hostedUrl).toMatch(new RegExp(`/f/${slug}$`));
  expect(snippet).toBe(`<script src="${new URL(hostedUrl).origin}/embed.js" data-nurture-form="${slug}" async></script>`);

  await page.goto('/forms');
  await expect(page.getByTestId('form-row').filter({ hasText: `E2E demo ${run}` })).toContainText(`/f/${slug}`);
  await page.screenshot({ path: '/tmp/forms-list.png' });
});

test('a visitor submits the hosted page: a bad email is shown beside the field, then thanks', async ({ browser }) => {
  // A visitor has no session: a fresh context with no cookies.
  const ctx = await browser.newContext();
  const visitor = await ctx.newPage();
  const email = `hosted-${run}@example.ru`;
  // Hold the page's scripts back so the visitor types before hydration, as on a slow phone:
  // hydrating must keep what was typed.
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  await visitor.route('**/_app/immutable/**/*.js', async (route) => {
    await gate;
    await route.continue();
  });
  await visitor.goto(`${hostedUrl}?utm_source=test&utm_medium=cpc`, { waitUntil: 'commit' });
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('Запросить демо');
  await visitor.getByLabel(/^(Name|Имя)/).fill('Пётр <b>Тест</b>');
  await visitor.getByLabel(/^Email/).fill('not-an-email');
  await visitor.getByLabel('I agree to receive emails about the product').check();
  release();
  await expect(visitor.locator('form[data-enhanced="true"]')).toBeVisible();
  await expect(visitor.getByLabel(/^(Name|Имя)/)).toHaveValue('Пётр <b>Тест</b>');
  await expect(visitor.getByLabel('I agree to receive emails about the product')).toBeChecked();
  await visitor.getByRole('button', { name: /Send|Отправить/ }).click();

  await expect(visitor.locator('[data-error-for="email"]')).toBeVisible();
  await expect(visitor.getByLabel(/^Email/)).toHaveAttribute('aria-invalid', 'true');
  await expect(visitor.getByLabel(/^(Name|Имя)/)).toHaveValue('Пётр <b>Тест</b>');
  await visitor.screenshot({ path: '/tmp/forms-hosted-error.png', fullPage: true });

  await visitor.getByLabel(/^Email/).fill(email);
  await visitor.getByRole('button', { name: /Send|Отправить/ }).click();
  await expect(visitor.getByTestId('thank-you')).toHaveText(`Thanks, we got it ${run}`);
  await visitor.screenshot({ path: '/tmp/forms-hosted-done.png', fullPage: true });
  await ctx.close();

  const leads = await findLeads(email);
  expect(leads.total).toBe(1);
  expect(leads.items[0]).toMatchObject({ email, name: 'Пётр <b>Тест</b>', channelName: 'test / cpc' });
});

test('the hosted page works without JavaScript, carrying its UTM tags', async ({ browser }) => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const visitor = await ctx.newPage();
  const email = `nojs-${run}@example.ru`;
  await visitor.goto(`${hostedUrl}?utm_source=nojs&utm_medium=banner`);
  await visitor.getByLabel(/^Email/).fill(email);
  await visitor.getByRole('button', { name: /Send|Отправить/ }).click();
  await expect(visitor.locator('[data-error-for="consent_marketing"]')).toBeVisible();
  await expect(visitor.getByLabel(/^Email/)).toHaveValue(email);
  await visitor.getByLabel('I agree to receive emails about the product').check();
  await visitor.getByRole('button', { name: /Send|Отправить/ }).click();
  await expect(visitor.getByTestId('thank-you')).toBeVisible();
  await ctx.close();
  const leads = await findLeads(email);
  expect(leads.items).toEqual([expect.objectContaining({ email, channelName: 'nojs / banner' })]);
});

test('the embed snippet on another origin renders the form and submits it once per lead', async ({ browser }) => {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Partner site</title></head>
<body style="font-family: Georgia, serif; margin: 2rem"><h1>Partner landing page</h1><p>Leave your contacts below.</p>
${snippet}
<p>Footer text of the partner site.</p></body></html>`;
  embedServer = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => embedServer!.listen(EMBED_PORT, '127.0.0.1', resolve));
  const site = `http://127.0.0.1:${(embedServer.address() as AddressInfo).port}`;
  expect(new URL(site).origin).not.toBe(new URL(hostedUrl).origin);

  const email = `embed-${run}@example.ru`;
  const ctx = await browser.newContext();
  const visitor = await ctx.newPage();
  await visitor.goto(`${site}/landing?utm_source=partner&utm_medium=email&utm_campaign=spring`);
  const form = visitor.locator('.nurture-form');
  await expect(form.getByRole('heading')).toHaveText('Запросить демо');
  await form.getByLabel(/^(Name|Имя)/).fill('Embed Visitor');
  await form.getByLabel(/^Email/).fill(email);
  await form.getByLabel('Телефон').fill('12');
  await form.getByRole('button').click();
  // The phone is refused beside the phone field, the missing consent beside the checkbox.
  await expect(form.locator('[data-error-for="phone"]')).toBeVisible();
  await expect(form.locator('[data-error-for="consent_marketing"]')).toBeVisible();
  await visitor.screenshot({ path: '/tmp/forms-embed-error.png', fullPage: true });

  await form.getByLabel('Телефон').fill('+7 916 555-44-33');
  await form.getByLabel('I agree to receive emails about the product').check();
  await form.getByRole('button').click();
  await expect(form.getByRole('status')).toHaveText(`Thanks, we got it ${run}`);
  await visitor.screenshot({ path: '/tmp/forms-embed-done.png', fullPage: true });

  // The same person again, from another page of the site: the first-touch UTM tags ride along
  // from sessionStorage and the lead is updated, not duplicated.
  await visitor.goto(`${site}/pricing`);
  const again = visitor.locator('.nurture-form');
  await again.getByLabel(/^Email/).fill(email.toUpperCase());
  await again.getByLabel('I agree to receive emails about the product').check();
  await again.getByRole('button').click();
  await expect(again.getByRole('status')).toBeVisible();
  await ctx.close();

  const leads = await findLeads(email);
  expect(leads.total).toBe(1);
  expect(leads.items[0]).toMatchObject({ email, name: 'Embed Visitor', channelName: 'partner / email' });
  await page.goto('/forms');
  await expect(page.getByTestId('form-row').filter({ hasText: `E2E demo ${run}` }).getByTestId('submissions')).toHaveText('4');
});

test('the public endpoint answers CORS preflight, refuses oversized bodies and keys errors by field', async ({ request }) => {
  const endpoint = `/api/public/forms/${slug}/submit`;
  const pre = await request.fetch(endpoint, { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
  expect(pre.status()).toBe(204);
  expect(pre.headers()['access-control-allow-origin']).toBe('https://shop.example');

  const big = await request.post(endpoint, { data: Buffer.from(JSON.stringify({ fields: { name: 'x'.repeat(200_000) } })), headers: { 'content-type': 'application/json' } });
  expect(big.status()).toBe(413);
  expect(await big.json()).toMatchObject({ ok: false, error: 'payload_too_large' });

  const bad = await request.post(endpoint, { data: { fields: { email: 'nope', consent_marketing: true } }, headers: { origin: 'https://shop.example' } });
  expect(bad.status()).toBe(400);
  expect(bad.headers()['access-control-allow-origin']).toBe('https://shop.example');
  const body = await bad.json();
  expect(Object.keys(body.errors)).toEqual(['email']);

  const def = await request.get(`/api/public/forms/${slug}`);
  expect(await def.json()).toMatchObject({ slug, title: 'Запросить демо', honeypot: 'website_url' });
  expect((await request.get('/api/public/forms/no-such-form')).status()).toBe(404);
});

test('a form limited to listed sites refuses other origins', async ({ request }) => {
  const locked = `locked-${run}`;
  const created = await page.request.post('/api/trpc/forms.create', {
    data: { name: `Locked ${run}`, slug: locked, title: 'Locked', fields: [{ key: 'email', label: 'Email', type: 'email' }], allowedOrigins: ['https://allowed.example/'] }
  });
  expect(created.status()).toBe(200);
  const endpoint = `/api/public/forms/${locked}/submit`;
  const preflight = (origin: string) => request.fetch(endpoint, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
  expect((await preflight('https://evil.example')).status()).toBe(403);
  expect((await preflight('https://allowed.example')).headers()['access-control-allow-origin']).toBe('https://allowed.example');
  const refused = await request.post(endpoint, { data: { fields: { email: 'x@evil.example' } }, headers: { origin: 'https://evil.example' } });
  expect(refused.status()).toBe(403);
  expect(await findLeads('x@evil.example')).toMatchObject({ total: 0 });
});
