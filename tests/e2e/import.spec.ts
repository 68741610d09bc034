import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { ensureAdmin } from './support/auth';

const FIXTURE = path.resolve('tests/e2e/fixtures/leads-ru.csv');

test('imports a Russian CSV with a duplicate, bad rows and a formula, and reports the rejects', async ({ page }) => {
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await ensureAdmin(page);
  await page.goto('/import');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/import leads|импорт лидов/i);
  await page.screenshot({ path: '/tmp/import-upload.png' });

  await page.setInputFiles('#import-file', FIXTURE);

  // Mapping step: suggested from the Russian headers, the first rows shown as text.
  const table = page.getByTestId('import-mapping');
  await expect(table).toBeVisible();
  await expect(page.locator('select[data-column="Имя"]')).toHaveValue('name');
  await expect(page.locator('select[data-column="E-mail"]')).toHaveValue('email');
  await expect(page.locator('select[data-column="Телефон"]')).toHaveValue('phone');
  await expect(page.locator('select[data-column="Компания"]')).toHaveValue('company');
  await expect(page.locator('select[data-column="Должность"]')).toHaveValue('job_title');
  await expect(page.locator('select[data-column="Город"]')).toHaveValue('city');
  await expect(table.getByRole('cell', { name: '<script>alert(1)</script>' })).toBeVisible();
  await expect(table.getByRole('cell', { name: 'ООО "Ромашка"; Москва' })).toBeVisible();

  // Skipping both identity columns is refused before anything is sent.
  await page.locator('select[data-column="E-mail"]').selectOption('skip');
  await page.locator('select[data-column="Телефон"]').selectOption('skip');
  await expect(page.getByTestId('mapping-problem')).toBeVisible();
  await expect(page.getByTestId('import-start')).toBeDisabled();
  await page.locator('select[data-column="E-mail"]').selectOption('email');
  await page.locator('select[data-column="Телефон"]').selectOption('phone');
  await expect(page.getByTestId('mapping-problem')).toHaveCount(0);

  await page.getByLabel(/channel for every lead|канал для всех/i).fill('Выставка e2e');
  await page.screenshot({ path: '/tmp/import-mapping.png', fullPage: true });
  await page.getByTestId('import-start').click();

  // Summary: Ivan's second row (other case) updates him, two rows are refused.
  await expect(page.getByTestId('count-created')).toHaveText('4', { timeout: 20_000 });
  await expect(page.getByTestId('count-updated')).toHaveText('1');
  await expect(page.getByTestId('count-rejected')).toHaveText('2');
  await expect(page.getByTestId('count-total')).toHaveText('7');
  const rejects = page.getByTestId('import-rejects');
  await expect(rejects.locator('tbody tr')).toHaveCount(2);
  await expect(rejects.locator('tbody tr').nth(0)).toContainText('5');
  await expect(rejects.locator('tbody tr').nth(0)).toContainText('E-mail');
  await expect(rejects.locator('tbody tr').nth(0)).toContainText('"foo@" is not a valid email address');
  await expect(rejects.locator('tbody tr').nth(1)).toContainText('Телефон');
  await expect(rejects.locator('tbody tr').nth(1)).toContainText('"12345" is not a valid phone number');
  await expect(page.getByTestId('recent-imports')).toContainText('leads-ru.csv');
  await page.screenshot({ path: '/tmp/import-summary.png', fullPage: true });

  // The report: a BOM, `;`, one line per rejected row with its column, reason and raw row.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-rejects').click()]);
  const file = await download.path();
  const text = fs.readFileSync(file!, 'utf8');
  expect(text.startsWith('\uFEFF')).toBe(true);
  const lines = text.replace(/^\uFEFF/, '').trim().split(/\r\n/);
  expect(lines[0]).toBe('row;column;reason;raw row');
  expect(lines).toHaveLength(3);
  expect(lines[1]).toMatch(/^5;E-mail;"""foo@"" is not a valid email address";/);
  expect(lines[1]).toContain('Плохой Email');
  expect(lines[2]).toMatch(/^6;Телефон;"""12345"" is not a valid phone number";/);

  // What was imported is shown as text everywhere: the script name and the formula company.
  const leads = await page.request.get(`/api/trpc/leads.list?input=${encodeURIComponent(JSON.stringify({ search: 'e2e@example.ru' }))}`);
  expect(leads.ok()).toBe(true);
  const body = JSON.stringify(await leads.json());
  expect(body).toContain('<script>alert(1)</script>');
  expect(body).toContain('=HYPERLINK(\\"http://evil.test\\",\\"click\\")');
  expect(dialogs).toEqual([]);
});

test('an upload without signing in is refused and stores nothing', async ({ request }) => {
  const res = await request.post('/import/upload', { data: 'Email\na@b.ru\n', headers: { 'content-type': 'text/csv' } });
  expect(res.status()).toBe(401);
});
