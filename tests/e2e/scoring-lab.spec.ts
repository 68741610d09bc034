import { expect, test } from '@playwright/test';
import { ensureAdmin } from './support/auth';

test('as admin, a lower MQL threshold changes the what-if, and saving rescores with a progress bar', async ({ page }) => {
  test.setTimeout(90_000);
  await ensureAdmin(page);
  // A well-fitting lead with no engagement yet: fit 65, engagement 0.
  const tag = Date.now().toString(36);
  const res = await page.request.post('/api/trpc/leads.create', {
    data: { lead: { email: `lab.${tag}@acme.ru`, name: `Лаборант ${tag}`, job_title: 'Генеральный директор', company_size: '200-500', industry: 'IT', region: 'Москва' } }
  });
  expect(res.ok()).toBe(true);

  await page.goto('/settings/scoring');
  await expect(page.getByRole('heading', { name: 'Scoring lab', exact: true })).toBeVisible();
  await expect(page.getByTestId('lab-hist-fit').locator('rect.bar-now')).not.toHaveCount(0, { timeout: 20_000 });
  const become = page.getByTestId('lab-mql-become');
  await expect(become).toHaveText(/^\+\d/);
  const threshold = page.getByLabel('MQL from engagement');
  const original = await threshold.inputValue();
  // Wait until the lead has been scored (fit from its attributes) so the what-if can count it.
  await expect(async () => {
    await threshold.fill('0');
    await expect(become).not.toHaveText('+0', { timeout: 3000 });
  }).toPass({ timeout: 20_000 });
  const lowered = Number((await become.textContent())!.replace(/\D/g, ''));
  expect(lowered).toBeGreaterThan(0);

  await threshold.fill('100');
  await expect(become).toHaveText('+0');
  await page.screenshot({ path: '/tmp/h5-lab-en.png', fullPage: true });

  // A threshold outside 0..100 is refused with the field named.
  await threshold.fill('150');
  await expect(page.getByTestId('lab-error-engagementThreshold')).toContainText('100');
  await expect(page.getByRole('button', { name: 'Save and rescore all leads' })).toBeDisabled();

  // Save a harmless change (a rule renamed, thresholds as they were) so other specs' leads keep their stages.
  await threshold.fill(original);
  const name = page.getByTestId('lab-rules-engagement').getByLabel('Name').first();
  await name.fill(`${await name.inputValue()} ·`);
  await page.getByLabel('What changed (for the audit log)').fill('e2e: renamed a rule');
  await expect(page.getByTestId('lab-error-engagementThreshold')).toHaveCount(0);
  await page.getByRole('button', { name: 'Save and rescore all leads' }).click();
  await expect(page.getByTestId('lab-job-done')).toContainText('Rescore finished', { timeout: 60_000 });
  await expect(page.getByTestId('lab-versions')).toContainText('e2e: renamed a rule');

  await page.getByTestId('locale-switch').selectOption('ru');
  await expect(page.getByRole('heading', { name: 'Лаборатория скоринга', exact: true })).toBeVisible();
  await expect(page.getByTestId('lab-hist-engagement').locator('rect.bar-now')).not.toHaveCount(0, { timeout: 20_000 });
  await page.screenshot({ path: '/tmp/h5-lab-ru.png', fullPage: true });
  await page.getByTestId('locale-switch').selectOption('en');
  await expect(page.getByRole('heading', { name: 'Scoring lab', exact: true })).toBeVisible();
});
