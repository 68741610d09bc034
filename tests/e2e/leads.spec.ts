import { expect, test, type Page } from '@playwright/test';
import { ensureAdmin } from './support/auth';

// Unique per run, so the spec passes whatever other specs left in the shared base.
const tag = `t${Date.now().toString(36)}`;
const SCRIPT = `<script>window.__pwned=1</script>`;

async function createLead(page: Page, fields: Record<string, string>) {
  await page.goto('/leads');
  await page.getByTestId('new-lead').click();
  await expect(page).toHaveURL(/\/leads\/new/);
  await page.waitForLoadState('networkidle');
  for (const [name, value] of Object.entries(fields)) await page.locator(`[data-testid="new-lead-form"] [name="${name}"]`).fill(value);
  await page.getByRole('button', { name: /create lead|создать лида/i }).click();
}

test.describe.configure({ mode: 'serial' });

test.describe('lead list and lead card', () => {
  test.beforeEach(async ({ page }) => {
    await ensureAdmin(page);
  });

  test('manual entry creates leads, shows field errors, and dedupes by email', async ({ page }) => {
    await createLead(page, { name: `Мария Кузнецова ${tag}`, email: `maria.${tag}@example.ru`, phone: '+7 916 555-12-34', company: 'Вектор' });
    await expect(page).toHaveURL(/\/leads\/[0-9a-f-]{36}\?created=1/);
    await expect(page.getByTestId('lead-title')).toHaveText(`Мария Кузнецова ${tag}`);

    await createLead(page, { name: `John Doe ${tag}`, email: 'not-an-email', company: SCRIPT });
    await expect(page.getByTestId('error-email')).toContainText(/not a valid email/);
    await page.locator('[name="email"]').fill(`john.${tag}@example.com`);
    await page.getByRole('button', { name: /create lead/i }).click();
    await expect(page.getByTestId('lead-title')).toHaveText(`John Doe ${tag}`);

    // The same email again updates Мария instead of making a twin, and says so.
    await createLead(page, { email: `MARIA.${tag}@example.ru`, job_title: 'CFO' });
    await expect(page.getByTestId('lead-notice')).toContainText(/already belonged to a lead/);
    await expect(page.getByTestId('lead-title')).toHaveText(`Мария Кузнецова ${tag}`);
  });

  test('the list searches, filters through the URL, exports CSV and remembers columns', async ({ page }) => {
    await page.goto('/leads');
    await page.getByTestId('lead-search').fill(`кузнецова ${tag}`.toUpperCase());
    await expect(page).toHaveURL(/q=/);
    const table = page.getByTestId('leads-table');
    await expect(table.getByRole('link', { name: `Мария Кузнецова ${tag}` })).toBeVisible();
    await expect(table.locator('tbody tr')).toHaveCount(1);

    await page.getByTestId('lead-search').fill(tag);
    await expect(table.locator('tbody tr')).toHaveCount(2);
    await page.screenshot({ path: '/tmp/leads-list.png', fullPage: true });

    // A stage filter nobody has: the empty state, and the URL carries the filter through a reload.
    await page.getByLabel('Customer').check();
    await expect(page).toHaveURL(/stage=customer/);
    await expect(page.getByTestId('leads-empty')).toBeVisible();
    await page.reload();
    await expect(page.getByLabel('Customer')).toBeChecked();
    await expect(page.getByTestId('leads-empty')).toBeVisible();

    // Sorting by name ascending puts John before Мария.
    await page.goto(`/leads?q=${tag}`);
    await page.getByRole('link', { name: /^Name/ }).click();
    await expect(page).toHaveURL(/sort=name&dir=asc/);
    await expect(table.locator('tbody tr').first()).toContainText('John Doe');

    const csv = await (await page.request.get(`/leads/export.csv?q=${tag}`)).text();
    expect(csv).toContain(`Мария Кузнецова ${tag}`);
    expect(csv).toContain(`John Doe ${tag}`);

    // Column choice survives a reload.
    await page.getByText('Columns').click();
    await page.getByRole('checkbox', { name: 'Phone' }).uncheck();
    await expect(table.locator('th', { hasText: 'Phone' })).toHaveCount(0);
    await page.reload();
    await expect(table.locator('th', { hasText: 'Email' })).toHaveCount(1);
    await expect(table.locator('th', { hasText: 'Phone' })).toHaveCount(0);
  });

  test('the card edits a field inline, shows errors beside it, and logs it on the timeline', async ({ page }) => {
    await page.goto(`/leads?q=${tag}`);
    await page.getByRole('link', { name: `Мария Кузнецова ${tag}` }).click();
    await expect(page.getByTestId('lead-title')).toHaveText(`Мария Кузнецова ${tag}`);
    const timeline = page.getByTestId('timeline');
    await expect(timeline.locator('[data-type="lead_created"]')).toBeVisible();
    await expect(timeline.locator('[data-type="lead_captured"]')).toContainText('CFO');

    // A bad phone is refused beside the field and nothing changes.
    await page.getByTestId('edit-phone').click();
    await page.locator('[data-field="phone"] input').fill('12');
    await page.locator('[data-field="phone"]').getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('error-phone')).toContainText(/not a valid phone/);
    await page.locator('[data-field="phone"]').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('edit-email').click();
    await page.locator('[data-field="email"] input').fill('плохой');
    await page.locator('[data-field="email"]').getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('error-email')).toContainText(/not a valid email/);
    await page.locator('[data-field="email"]').getByRole('button', { name: 'Cancel' }).click();

    await page.getByTestId('edit-company').click();
    await page.locator('[data-field="company"] input').fill('Ромашка');
    await page.locator('[data-field="company"]').getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('[data-field="company"]')).toContainText('Ромашка');
    const changed = timeline.locator('[data-type="field_changed"]').first();
    await expect(changed).toContainText('Field changed');
    await expect(changed).toContainText('Вектор → Ромашка');

    await page.getByTestId('edit-stage').click();
    await page.locator('[data-field="stage"] select').selectOption('mql');
    await page.locator('[data-field="stage"]').getByRole('button', { name: 'Save' }).click();
    await expect(timeline.locator('[data-type="stage_changed"]').first()).toContainText('Subscriber → MQL');
    await page.screenshot({ path: '/tmp/leads-card.png', fullPage: true });
  });

  test('captured script shows as text and never runs', async ({ page }) => {
    await page.goto(`/leads?q=john.${tag}`);
    await expect(page.getByTestId('leads-table')).toContainText(SCRIPT);
    await page.getByRole('link', { name: `John Doe ${tag}` }).click();
    await expect(page.locator('[data-field="company"]')).toContainText(SCRIPT);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  test('merge folds another lead into this one and the old link lands on the survivor', async ({ page }) => {
    await page.goto(`/leads?q=john.${tag}`);
    await page.getByRole('link', { name: `John Doe ${tag}` }).click();
    await expect(page.getByTestId('lead-title')).toHaveText(`John Doe ${tag}`);
    const johnUrl = page.url();
    await page.goto(`/leads?q=maria.${tag}`);
    await page.getByRole('link', { name: `Мария Кузнецова ${tag}` }).click();
    await page.getByTestId('merge-open').click();
    const dialog = page.getByTestId('merge-dialog');
    await dialog.getByLabel(/search the other lead/i).fill(`john.${tag}`);
    await dialog.getByRole('button', { name: 'Merge this one' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect(page.getByTestId('lead-notice')).toContainText(/Merged/);
    await expect(page.getByTestId('timeline').locator('[data-type="lead_merged"]')).toContainText(`john.${tag}@example.com`);
    await page.goto(johnUrl);
    await expect(page.getByTestId('lead-title')).toHaveText(`Мария Кузнецова ${tag}`);
  });
});
