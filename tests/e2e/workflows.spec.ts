import { expect, test } from '@playwright/test';
import { ensureAdmin } from './support/auth';

/**
 * The server starts on an empty base with the worker on and publishes ./workflows. A lead typed
 * in by hand enters the welcome sequence, its first email shows up in the Mailbox within seconds,
 * and the lead card tells the story.
 */
const tag = `w${Date.now().toString(36)}`;
const email = `anna.${tag}@example.ru`;

test.describe.configure({ mode: 'serial' });

test.beforeEach(async ({ page }) => {
  await ensureAdmin(page);
});

test('the example flows are listed with trigger, status and counts, and open as readable steps', async ({ page }) => {
  await page.goto('/workflows');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Workflows');
  const rows = page.getByTestId('workflow-row');
  // The four shipped flows (other specs may have added their own by now).
  for (const name of ['Welcome sequence', 'Webinar nurture', 'Re-engagement', 'MQL → SQL hand-off']) await expect(rows.filter({ hasText: name }).first()).toBeVisible();
  const welcome = rows.filter({ hasText: 'Welcome sequence' });
  await expect(welcome).toContainText('A new lead is created');
  await expect(welcome.getByTestId('workflow-status')).toHaveText('Active');
  await expect(rows.filter({ hasText: 'Webinar nurture' })).toContainText('Event webinar_invited arrives');
  await page.screenshot({ path: '/tmp/flows-workflows.png', fullPage: true });

  await page.getByRole('link', { name: /Webinar nurture/ }).click();
  await expect(page).toHaveURL(/\/workflows\/webinar-nurture$/);
  const steps = page.getByTestId('step');
  await expect(steps.first()).toContainText('If English speakers');
  await expect(page.getByTestId('steps')).toContainText('Send: webinar-invite-ru');
  await expect(page.getByTestId('steps')).toContainText('Wait for webinar_registered (at most 3 days)');
  await expect(page.getByTestId('steps')).toContainText('Wait until 1 days before attr:webinar_at');
  await expect(page.getByTestId('versions')).toContainText('version 1');
  await expect(page.getByTestId('failed-none')).toBeVisible();
  await page.screenshot({ path: '/tmp/flows-detail.png', fullPage: true });

  // Pause and resume from the list.
  await page.goto('/workflows');
  await page.waitForLoadState('networkidle');
  const reeng = page.getByTestId('workflow-row').filter({ hasText: 'Re-engagement' });
  await reeng.getByRole('button', { name: 'Pause' }).click();
  await expect(reeng.getByTestId('workflow-status')).toHaveText('Paused');
  await reeng.getByRole('button', { name: 'Resume' }).click();
  await expect(reeng.getByTestId('workflow-status')).toHaveText('Active');
});

test('a new lead gets the welcome email in the Mailbox and the card shows the flow', async ({ page }) => {
  await page.goto('/leads/new');
  await page.waitForLoadState('networkidle');
  const form = page.getByTestId('new-lead-form');
  await form.locator('[name="name"]').fill(`Анна ${tag}`);
  await form.locator('[name="email"]').fill(email);
  await page.getByRole('button', { name: /create lead/i }).click();
  await expect(page).toHaveURL(/\/leads\/[0-9a-f-]{36}/);
  const leadUrl = page.url().replace(/\?.*$/, '');

  // The worker picks the lead up within a second or two; the Mailbox is a plain page, so reload.
  await page.goto('/mailbox');
  await expect(page.getByTestId('delivery-off')).toContainText('Delivery off: emails are kept here, not sent.');
  const mail = page.getByTestId('mail').filter({ hasText: email });
  await expect(async () => {
    await page.reload();
    await expect(mail).toHaveCount(1, { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(mail).toContainText(`Анна, добро пожаловать в Nurture`);
  await expect(mail).toContainText('Welcome sequence');
  await mail.locator('summary').click();
  await expect(mail.getByTestId('mail-body')).toContainText('Здравствуйте, Анна!');
  await page.screenshot({ path: '/tmp/flows-mailbox.png', fullPage: true });

  await page.goto(leadUrl);
  const timeline = page.getByTestId('timeline');
  await expect(timeline.locator('[data-type="workflow_enrolled"]')).toContainText('Entered a workflow');
  await expect(timeline.locator('[data-type="workflow_enrolled"]')).toContainText('welcome-sequence');
  await expect(timeline.locator('[data-type="email_sent"]')).toContainText('Анна, добро пожаловать в Nurture');
  await expect(timeline.locator('[data-type="workflow_step"]').first()).toBeVisible();
  await page.screenshot({ path: '/tmp/flows-lead-card.png', fullPage: true });

  // The enrollment opens the instance page: the path node by node, what the steps did, the next timer.
  await timeline.locator('[data-type="workflow_enrolled"]').getByRole('link').click();
  await expect(page.getByTestId('instance-path')).toContainText('ru_email_1');
  await expect(page.getByTestId('instance-facts')).toContainText('active');
  await page.screenshot({ path: 'test-results/workflow-instance.png', fullPage: true });

  // The flow page counts the lead in its first wait.
  await page.goto('/workflows/welcome-sequence');
  await expect(page.locator('[data-node="ru_wait_1"] [data-testid="step-count"]')).toContainText(/\d+ here/);
});

test('the Mailbox and the flows speak Russian too', async ({ page }) => {
  await page.goto('/mailbox');
  await page.waitForLoadState('networkidle');
  await page.getByTestId('locale-switch').selectOption('ru');
  await expect(page.getByTestId('delivery-off')).toContainText('Отправка выключена');
  await page.goto('/workflows');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Сценарии');
  await expect(page.getByTestId('workflow-row').filter({ hasText: 'Приветственная' })).toContainText('Появился новый лид');
  await page.waitForLoadState('networkidle');
  await page.getByTestId('locale-switch').selectOption('en');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Workflows');
});
