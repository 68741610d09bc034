import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { ensureAdmin } from './support/auth';

/** Leads of a fresh channel, one moved to MQL, so the views have figures to show. */
async function seedThroughApi(page: import('@playwright/test').Page, channel: string) {
  const created = await page.request.post('/api/trpc/channels.create', { data: { name: channel, kind: 'paid' } });
  expect(created.status()).toBe(200);
  const ids: string[] = [];
  for (const n of [1, 2, 3]) {
    const res = await page.request.post('/api/trpc/leads.create', { data: { lead: { email: `analytics-${n}-${channel.replace(/\D/g, '')}@example.ru`, name: `Аналитика ${n}` }, channelName: channel } });
    expect(res.status()).toBe(200);
    ids.push((await res.json()).result.data.leadId);
  }
  const moved = await page.request.post('/api/trpc/leads.update', { data: { id: ids[0], patch: { stage: 'mql' } } });
  expect(moved.status()).toBe(200);
}

test('analytics: every view opens, a reversed range is refused, both languages, CSV export', async ({ page }) => {
  await ensureAdmin(page);
  const channel = `Analytics ${Date.now()}`;
  await seedThroughApi(page, channel);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await page.goto('/analytics');
  await page.waitForLoadState('networkidle');
  const lang = page.getByTestId('locale-switch');
  if ((await lang.inputValue()) !== 'en') {
    await lang.selectOption('en');
    await page.reload();
  }
  await expect(page.getByRole('heading', { name: 'Analytics', level: 1 })).toBeVisible();
  expect(Number((await page.getByTestId('total-leads').innerText()).replace(/\D/g, ''))).toBeGreaterThanOrEqual(3);
  await expect(page.getByTestId('overview-table')).toContainText(channel);
  await expect(page.getByTestId('chart').first().locator('svg').first()).toBeVisible();

  // End before start: refused in the form, nothing is submitted.
  await page.getByLabel('From', { exact: true }).fill('2026-03-10');
  await page.getByLabel('To', { exact: true }).fill('2026-03-01');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('range-error')).toHaveText(/end date is before the start/);
  expect(page.url()).not.toContain('from=2026-03-10');
  // ...and refused by the server when typed into the URL.
  await page.goto('/analytics/funnel?from=2026-03-10&to=2026-03-01');
  await expect(page.getByTestId('range-error')).toBeVisible();

  const views: [string, string, RegExp][] = [
    ['funnel', 'funnel-table', /MQL/],
    ['channels', 'channels-table', new RegExp(channel)],
    ['sales', '', /Reps/],
    ['email', '', /Email by flow/],
    ['flows', '', /Flows/]
  ];
  for (const [tab, table, text] of views) {
    await page.goto('/analytics');
    await page.getByTestId(`tab-${tab}`).click();
    await expect(page).toHaveURL(new RegExp(`/analytics/${tab}`));
    if (table) await expect(page.getByTestId(table)).toContainText(text);
    else await expect(page.locator('main')).toContainText(text);
  }

  // Filter by the new channel: the funnel shows its three leads, one of them an MQL.
  await page.goto('/analytics/funnel');
  await page.getByLabel('Channel', { exact: true }).selectOption({ label: channel });
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('funnel-table').locator('tr[data-stage="lead"] td').nth(1)).toHaveText('3');
  await expect(page.getByTestId('funnel-table').locator('tr[data-stage="mql"] td').nth(1)).toHaveText('1');

  // Russian: the same view, in Russian.
  await page.getByTestId('locale-switch').selectOption('ru');
  await expect(page.getByRole('heading', { name: 'Аналитика', level: 1 })).toBeVisible();
  await expect(page.getByTestId('tab-channels')).toHaveText('Каналы');
  await page.getByTestId('tab-channels').click();
  await expect(page.getByTestId('channels-table')).toContainText('Цена лида');

  // CSV of the channel table, with the page's filters.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-channels-channels').click()]);
  const csv = fs.readFileSync((await download.path())!, 'utf8');
  expect(csv.split('\r\n')[0]).toContain('channel,campaign,leads,spend_rub,cost_per_lead');
  expect(csv).toContain(channel);

  await page.getByTestId('locale-switch').selectOption('en');
  expect(errors).toEqual([]);
});

test('analytics: a rep who is not a manager is kept out', async ({ page }) => {
  await ensureAdmin(page);
  const email = `rep-${Date.now()}@nurture.test`;
  const made = await page.request.post('/api/trpc/users.create', { data: { email, name: 'Rep', password: 'rep-password-123', role: 'sales' } });
  expect(made.status()).toBe(200);
  await page.context().clearCookies();
  await page.goto('/login');
  await page.waitForLoadState('networkidle');
  await page.getByLabel(/email/i).fill(email);
  await page.getByLabel(/password|пароль/i).fill('rep-password-123');
  await page.getByRole('button', { name: /sign in|войти/i }).click();
  await expect(page).not.toHaveURL(/\/login/);
  const res = await page.goto('/analytics');
  expect(res?.status()).toBe(403);
  expect((await page.request.get('/analytics/export.csv?view=channels&table=channels')).status()).toBe(403);
});
