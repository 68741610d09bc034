import { expect, test } from '@playwright/test';
import { ensureAdmin } from './support/auth';

test('the lead card shows fit, grade and why, scored as the lead arrives', async ({ page }) => {
  await ensureAdmin(page);
  const tag = Date.now().toString(36);
  const res = await page.request.post('/api/trpc/leads.create', {
    data: { lead: { email: `ivan.${tag}@acme.ru`, name: `Иван Петров ${tag}`, job_title: 'Коммерческий директор', company_size: '200-500', industry: 'IT', region: 'Москва' } }
  });
  expect(res.ok()).toBe(true);
  const leadId = (await res.json()).result.data.leadId as string;
  // The worker scores the lead_created event within a round or two.
  await expect(async () => {
    await page.goto(`/leads/${leadId}`);
    await expect(page.getByTestId('score-fit')).toHaveText('65', { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId('score-grade')).toHaveText('A');
  await expect(page.getByTestId('score-why')).toContainText('Executive title');
  await expect(page.getByTestId('score-why')).toContainText('Work email (not a free mailbox)');
  await page.screenshot({ path: '/tmp/scoring-card-en.png', fullPage: true });
  await page.getByTestId('locale-switch').selectOption('ru');
  await expect(page.getByRole('heading', { name: 'Скоринг', exact: true })).toBeVisible();
  await expect(page.getByTestId('score-fit')).toHaveText('65');
  await expect(page.getByTestId('score-panel')).toContainText('Почему такой балл');
  await expect(page.getByTestId('score-why')).toContainText('Руководящая должность'); // a shipped rule, named in Russian
  await page.screenshot({ path: '/tmp/scoring-card-ru.png' });
  // The shared admin's language is stored: leave it as the other specs expect it.
  await page.getByTestId('locale-switch').selectOption('en');
  await expect(page.getByRole('heading', { name: 'Scores', exact: true })).toBeVisible();
});
