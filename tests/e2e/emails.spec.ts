import { expect, test } from '@playwright/test';
import { ensureAdmin } from './support/auth';

/**
 * The server starts on an empty base and loads ./workflows (with their email templates). A
 * marketer opens the templates, writes one, watches the preview follow, sees a Liquid error with
 * its line, fixes it, saves, and sends a test that shows up in the Mailbox.
 */
const tag = `e${Date.now().toString(36)}`;

test.describe.configure({ mode: 'serial' });

test.beforeEach(async ({ page }) => {
  await ensureAdmin(page);
});

test('the shipped templates are listed with the flows that use them', async ({ page }) => {
  await page.getByRole('link', { name: 'Emails' }).click();
  await expect(page).toHaveURL(/\/emails$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Email templates');
  const row = page.locator('[data-testid="template-row"][data-slug="welcome-1-ru"]');
  await expect(row).toContainText('добро пожаловать');
  await expect(row).toContainText('Welcome sequence');
  await page.screenshot({ path: '/tmp/templates-list.png', fullPage: true });

  await row.getByRole('link').first().click();
  await expect(page).toHaveURL(/\/emails\/welcome-1-ru$/);
  await expect(page.getByTestId('preview-subject')).toHaveText('Anna, добро пожаловать в Nurture');
});

test('write a template: the preview follows, a Liquid error shows its line, a test lands in the Mailbox', async ({ page }) => {
  await page.goto('/emails/new');
  await page.waitForLoadState('networkidle');
  await page.getByTestId('tpl-name').fill(`Promo ${tag}`);
  await expect(page.getByTestId('tpl-slug')).toHaveValue(`promo-${tag}`);
  await page.getByTestId('tpl-subject').fill('Новости для {{ lead.company }}');
  await page.getByTestId('tpl-preheader').fill('Коротко о главном');
  await page.getByTestId('tpl-html').fill('<h1>Привет, {{ lead.first_name }}!</h1>\n<p>Первая версия.</p>');

  const frame = page.frameLocator('[data-testid="preview-frame"]');
  await expect(page.getByTestId('preview-subject')).toHaveText('Новости для Romashka LLC');
  await expect(frame.locator('h1')).toHaveText('Привет, Anna!');
  await expect(frame.locator('body')).toContainText('Первая версия.');

  // The preview changes as the HTML changes.
  await page.getByTestId('tpl-html').fill('<h1>Привет, {{ lead.first_name }}!</h1>\n<p>Вторая версия с <a href="https://example.com/x">ссылкой</a>.</p>');
  await expect(frame.locator('body')).toContainText('Вторая версия');
  await expect(page.getByTestId('preview-text')).toContainText('ссылкой (https://example.com/x)');

  // A Liquid error on line 2: shown with line and column; saving waits for the fix.
  await page.getByTestId('tpl-html').fill('<h1>Привет, {{ lead.first_name }}!</h1>\n<p>{{ lead.name | shout }}</p>');
  await expect(page.getByTestId('liquid-issue')).toHaveText('HTML body, line 2, column 4: undefined filter: shout');
  await expect(page.getByTestId('preview-blocked')).toBeVisible();
  await expect(page.getByTestId('tpl-save')).toBeDisabled();
  await page.screenshot({ path: '/tmp/templates-error.png', fullPage: true });

  await page.getByTestId('tpl-html').fill('<h1>Привет, {{ lead.first_name }}!</h1>\n<p>{{ lead.name | upcase }}</p>');
  await expect(page.getByTestId('liquid-issue')).toHaveCount(0);
  await expect(frame.locator('p').first()).toHaveText('ANNA SMIRNOVA');

  await page.getByTestId('tpl-save').click();
  await expect(page).toHaveURL(new RegExp(`/emails/promo-${tag}$`));
  await expect(page.getByTestId('preview-subject')).toHaveText('Новости для Romashka LLC');
  await page.setViewportSize({ width: 1500, height: 1000 });
  await page.screenshot({ path: '/tmp/templates-editor-desktop.png', fullPage: true });
  await page.getByTestId('preview-mobile').click();
  await page.screenshot({ path: '/tmp/templates-editor-mobile.png', fullPage: true });

  await page.getByTestId('test-to').fill(`qa.${tag}@example.com`);
  await page.getByTestId('send-test').click();
  await expect(page.getByTestId('test-sent')).toContainText(`qa.${tag}@example.com`);

  await page.getByTestId('test-sent').getByRole('link').click();
  await expect(page).toHaveURL(/\/mailbox$/);
  const mail = page.getByTestId('mail').filter({ hasText: `qa.${tag}@example.com` });
  await expect(mail).toContainText('[Test] Новости для Romashka LLC');
  await mail.locator('summary').click();
  await expect(mail.getByTestId('mail-body')).toContainText('ANNA SMIRNOVA');
});
