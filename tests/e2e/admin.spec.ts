/**
 * Admin screens end to end on the empty e2e base: an admin adds a marketer and a sales rep, the
 * rep is refused the settings, the marketer records a channel with spend and sees cost per lead,
 * and the admin finds all of it in the audit log, in English and in Russian.
 */
import { expect, test, type Page } from '@playwright/test';
import { ADMIN, ensureAdmin, signIn } from './support/auth';

test.describe.configure({ mode: 'serial' });

const run = Date.now().toString(36);
const PASSWORD = 'secret-pass-12345';
const marketer = { name: 'Мария Маркетолог', email: `marketer-${run}@nurture.test` };
const sales = { name: 'Сергей Продажи', email: `sales-${run}@nurture.test` };
const channel = `Яндекс Директ ${run}`;

let page: Page;

/** Today and the month around it as YYYY-MM-DD in Moscow, the zone the app counts days in. */
function moscowMonth() {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Moscow' }).format(Date.now());
  const [y, mo] = today.split('-').map(Number);
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const pad = (n: number) => String(n).padStart(2, '0');
  return { first: `${y}-${pad(mo)}-01`, last: `${y}-${pad(mo)}-${pad(last)}` };
}

async function signOut() {
  await page.getByRole('button', { name: /sign out|выйти/i }).click();
  await expect(page).toHaveURL(/\/login/);
}

async function createUser(u: { name: string; email: string }, role: 'Marketer' | 'Sales rep') {
  const form = page.getByRole('region', { name: 'Add a user' });
  await form.getByLabel('Name').fill(u.name);
  await form.getByLabel('Email').fill(u.email);
  await form.getByLabel('Initial password').fill(PASSWORD);
  await form.getByLabel('Role', { exact: true }).selectOption({ label: role });
  await form.getByLabel('Language').selectOption('en');
  return form;
}

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  // Warm the first page's scripts: on a cold server the set-up form can hydrate after
  // ensureAdmin has typed into it, which empties the name field.
  await page.goto('/');
  await page.waitForLoadState('networkidle');
  await ensureAdmin(page);
});
test.afterAll(async () => {
  await page.close();
});

test('an admin creates a marketer and a sales rep, with field errors beside the fields', async () => {
  await page.goto('/settings/users');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Users');
  await expect(page.getByTestId('user-row').filter({ hasText: ADMIN.email })).toContainText('Admin');

  const form = await createUser(marketer, 'Marketer');
  // Routing fields belong to sales reps only.
  await expect(form.getByLabel('Territory')).toHaveCount(0);
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(form.getByRole('status')).toContainText(`User ${marketer.email} created`);
  await expect(page.getByTestId('user-row').filter({ hasText: marketer.email })).toContainText('Marketer');

  // The same email again is refused beside the email field, and nothing else is created.
  await createUser({ name: 'Twin', email: marketer.email.toUpperCase() }, 'Marketer');
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(form.locator('#new-email + .error')).toHaveText('a user with this email already exists');
  await expect(page.getByTestId('user-row').filter({ hasText: 'Twin' })).toHaveCount(0);

  await createUser(sales, 'Sales rep');
  await form.getByLabel(/Sales manager/).check();
  await form.getByLabel('Territory').fill('Москва');
  await form.getByLabel('Specializations').fill('финтех, ритейл, , Финтех');
  await form.getByRole('button', { name: 'Create user' }).click();
  const row = page.getByTestId('user-row').filter({ hasText: sales.email });
  await expect(row).toContainText('Sales rep');
  await expect(row).toContainText('Manager');
  await expect(row).toContainText('Москва');
  await expect(row.locator('.tag')).toHaveText(['финтех', 'ритейл']);

  // Edit: move the rep to another territory.
  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('form', { name: `Edit ${sales.name}` });
  await edit.getByLabel('Territory').fill('Сибирь');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText(`Changes to ${sales.email} saved`);
  await expect(row).toContainText('Сибирь');

  // An admin may not lock themselves out.
  await page.getByTestId('user-row').filter({ hasText: ADMIN.email }).getByRole('button', { name: 'Edit' }).click();
  const self = page.getByRole('form', { name: /^Edit / });
  await self.getByLabel('Role', { exact: true }).selectOption({ label: 'Marketer' });
  await self.getByRole('button', { name: 'Save' }).click();
  await expect(self.getByText("You can't take away your own admin role")).toBeVisible();
  await self.getByRole('button', { name: 'Cancel' }).click();
  await page.screenshot({ path: '/tmp/admin-users-en.png', fullPage: true });
});

test('a sales rep is refused the settings and sees no settings links', async () => {
  await signOut();
  await signIn(page, sales.email, PASSWORD);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Leads' })).toBeVisible();
  await expect(nav.locator('a[href^="/settings"]')).toHaveCount(0);
  await expect(nav.locator('a[href="/channels"]')).toHaveCount(0);
  for (const path of ['/settings/users', '/settings/audit', '/channels']) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(403);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText("You don't have access to this page");
  }
  await page.screenshot({ path: '/tmp/admin-403-en.png', fullPage: true });
  const trpc = await page.request.get('/api/trpc/users.list');
  expect(trpc.status()).toBe(200);
  const create = await page.request.post('/api/trpc/users.create', { data: { email: 'x@y.ru', name: 'X', password: PASSWORD, role: 'admin' } });
  expect(create.status()).toBe(403);
});

test('a marketer adds a channel with spend and sees the cost per lead', async () => {
  await signOut();
  await signIn(page, marketer.email, PASSWORD);
  await page.goto('/channels');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Channels');
  await expect(page.getByTestId('attribution-help')).toContainText('utm_source / utm_medium');

  const add = page.getByRole('region', { name: 'Add a channel' });
  await add.getByLabel('Name').fill(channel);
  await add.getByLabel('Kind').selectOption('paid');
  await add.getByLabel('utm_source').fill('yandex');
  await add.getByLabel('utm_medium').fill('cpc');
  await add.getByRole('button', { name: 'Add channel' }).click();
  await expect(add.getByRole('status')).toContainText(`Channel ${channel} added`);
  // A second channel of the same name is refused beside the name.
  await add.getByLabel('Name').fill(channel);
  await add.getByRole('button', { name: 'Add channel' }).click();
  await expect(add.locator('#ch-name + .error')).toHaveText('is taken by another channel');

  // Two leads through the tRPC endpoint (non-batched POST: the body is the input itself).
  for (const n of [1, 2]) {
    const res = await page.request.post('/api/trpc/leads.create', {
      data: { lead: { email: `cpl-${n}-${run}@example.ru`, name: `Лид ${n}` }, channelName: channel }
    });
    expect(res.status()).toBe(200);
    expect((await res.json()).result.data).toMatchObject({ created: true });
  }

  await page.goto('/channels');
  const row = page.getByTestId('channel-row').filter({ hasText: channel });
  await expect(row).toContainText('Paid ads');
  await expect(row.locator('td').nth(2)).toHaveText('2');
  await row.getByRole('button', { name: 'Spend…' }).click();
  const editor = page.getByRole('region', { name: `Spend: ${channel}` });
  await expect(editor).toContainText('No spend recorded');

  const { first, last } = moscowMonth();
  // End before start is refused in the form, naming the end field.
  await editor.getByLabel('Period start').fill(last);
  await editor.getByLabel('Period end (inclusive)').fill(first);
  await editor.getByLabel('Amount, ₽').fill('30000');
  await editor.getByRole('button', { name: 'Add spend' }).click();
  await expect(editor.getByRole('alert')).toHaveText('The end must not be before the start.');
  await expect(editor.locator('tbody tr')).toHaveCount(0);

  await editor.getByLabel('Period start').fill(first);
  await editor.getByLabel('Period end (inclusive)').fill(last);
  await editor.getByLabel('Amount, ₽').fill('30 000,00');
  await editor.getByLabel('Note').fill('<b>ноябрь</b>');
  await editor.getByRole('button', { name: 'Add spend' }).click();
  await expect(editor.locator('tbody tr')).toHaveCount(1);
  const shown = (day: string) => new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'Europe/Moscow' }).format(new Date(`${day}T12:00:00+03:00`));
  await expect(editor.locator('tbody tr')).toContainText(`${shown(first)} — ${shown(last)}`);
  // Shown as text, never as markup.
  await expect(editor.locator('tbody tr td').nth(2)).toHaveText('<b>ноябрь</b>');
  await expect(row.locator('td').nth(3)).toContainText(/30,000/);
  await expect(row.getByTestId('cpl')).toContainText(/15,000/);
  await page.screenshot({ path: '/tmp/admin-channels-en.png', fullPage: true });

  // Last month has neither these leads nor this spend.
  await page.getByRole('link', { name: 'Last month' }).click();
  await expect(page.getByTestId('channel-row').filter({ hasText: channel }).locator('td').nth(2)).toHaveText('0');

  // A hand-typed range with the end before the start is refused in the form.
  await page.getByLabel('From', { exact: true }).fill(last);
  await page.getByLabel('To (inclusive)').fill(first);
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page.locator('#range-error')).toHaveText('The end must not be before the start.');
  await page.goto(`/channels?from=${last}&to=${first}`);
  await expect(page.locator('#range-error')).toHaveText('The end must not be before the start.');
  await expect(page.getByTestId('channel-row')).toHaveCount(0);
});

test('the admin sees these actions in the audit log, pages back, and reads it in Russian', async () => {
  await signOut();
  await signIn(page, ADMIN.email, ADMIN.password);
  // Enough history for a second page: 55 more audited user updates.
  const users = (await (await page.request.get('/api/trpc/users.list')).json()).result.data as { id: string; email: string }[];
  const rep = users.find((u) => u.email === sales.email)!;
  for (let i = 0; i < 55; i++) {
    const res = await page.request.post('/api/trpc/users.update', { data: { id: rep.id, patch: { territory: `Регион ${i}` } } });
    expect(res.status()).toBe(200);
  }

  await page.goto('/settings/audit');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Audit log');
  const rows = page.getByTestId('audit-row');
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toContainText('Updated user');
  await expect(rows.first()).toContainText('Territory: Регион 54');
  await page.getByRole('button', { name: 'Load older' }).click();
  await expect(page.getByText("That's the beginning of the log.")).toBeVisible();
  const all = await rows.count();
  expect(all).toBeGreaterThan(50);
  const byAction = (a: string) => page.locator(`[data-testid="audit-row"][data-action="${a}"]`);
  await expect(byAction('user.create').filter({ hasText: marketer.email })).toContainText('Created user');
  // The subject names the user an update was about.
  await expect(rows.first()).toContainText(`${sales.name} <${sales.email}>`);
  await expect(byAction('user.create').filter({ hasText: sales.email })).toContainText('Role: Sales rep');
  await expect(byAction('channel.create').filter({ hasText: channel })).toContainText('marketer-');
  await expect(byAction('channel.spend_add')).toContainText('Amount: 30000');
  await expect(byAction('channel.spend_add')).toContainText('Added channel spend');
  // No entry repeats across the two pages.
  const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
  expect(new Set(ids).size).toBe(all);
  await page.screenshot({ path: '/tmp/admin-audit-en.png' });

  await page.getByTestId('locale-switch').selectOption('ru');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Журнал аудита');
  await expect(page.getByRole('columnheader', { name: 'Время (МСК)' })).toBeVisible();
  await expect(byAction('user.update').first()).toContainText('Изменён пользователь');
  await expect(byAction('user.update').first()).toContainText('Территория: Регион 54');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: '/tmp/admin-audit-ru.png' });

  await page.goto('/settings/users');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Пользователи');
  await expect(page.getByRole('button', { name: 'Создать пользователя' })).toBeVisible();
  await page.screenshot({ path: '/tmp/admin-users-ru.png', fullPage: true });

  await page.goto('/channels');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Каналы');
  const row = page.getByTestId('channel-row').filter({ hasText: channel });
  await expect(row.getByTestId('cpl')).toContainText(/15\s000,00\s₽/);
  await row.getByRole('button', { name: 'Расходы…' }).click();
  await page.screenshot({ path: '/tmp/admin-channels-ru.png', fullPage: true });

  // Back to English so the shared admin reads the language the other specs expect.
  await page.getByTestId('locale-switch').selectOption('en');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Channels');
});
