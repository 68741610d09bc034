import { expect, test, type Page } from '@playwright/test';
import { ensureAdmin } from './support/auth';

// Unique per run, so the spec passes whatever other specs left in the shared base.
const tag = `s${Date.now().toString(36)}`;
const kazan = `Kazan-${tag}`;
const omsk = `Omsk-${tag}`;

async function createLead(page: Page, fields: Record<string, string>) {
  await page.goto('/leads/new');
  await page.waitForLoadState('networkidle');
  for (const [name, value] of Object.entries(fields)) await page.locator(`[data-testid="new-lead-form"] [name="${name}"]`).fill(value);
  await page.getByRole('button', { name: /create lead|создать лида/i }).click();
  await expect(page).toHaveURL(/\/leads\/[0-9a-f-]{36}/);
}

test.describe.configure({ mode: 'serial' });

test.describe('segments', () => {
  test.beforeEach(async ({ page }) => {
    await ensureAdmin(page);
  });

  test('build a segment, watch the live count follow the conditions, save it and export its leads', async ({ page }) => {
    await createLead(page, { name: `Анна ${tag}`, email: `anna.${tag}@example.ru`, city: kazan, company: '=HYPERLINK("http://evil")' });
    await createLead(page, { name: `Олег ${tag}`, email: `oleg.${tag}@example.ru`, city: omsk });
    await createLead(page, { name: `Ира ${tag}`, email: `ira.${tag}@example.ru`, city: kazan });

    await page.goto('/segments');
    await page.getByTestId('new-segment').click();
    await expect(page).toHaveURL(/\/segments\/new/);
    await page.waitForLoadState('networkidle');
    await page.getByTestId('segment-name').fill(`Kazan and Omsk ${tag}`);

    const count = page.getByTestId('live-count');
    await page.getByTestId('add-condition').click();
    const cond = page.getByTestId('condition').first();
    await cond.getByTestId('cond-field').selectOption('city');
    await cond.getByTestId('cond-value').fill(kazan);
    await expect(count).toHaveAttribute('data-count', '2');
    await expect(page.getByTestId('sample')).toContainText(`Анна ${tag}`);

    // "is one of" two cities: the count grows without a save.
    await cond.getByTestId('cond-op').selectOption('in');
    await cond.getByTestId('cond-value').fill(`${kazan}, ${omsk}`);
    await expect(count).toHaveAttribute('data-count', '3');

    // A contradiction is zero, not an error.
    await page.getByTestId('add-condition').click();
    const second = page.getByTestId('condition').nth(1);
    await second.getByTestId('cond-field').selectOption('city');
    await second.getByTestId('cond-op').selectOption('neq');
    await second.getByTestId('cond-value').fill(kazan);
    await expect(count).toHaveAttribute('data-count', '1');
    await page.getByTestId('group-match').selectOption('all');
    await second.getByTestId('cond-value').fill(`${kazan}-nobody`);
    await expect(count).toHaveAttribute('data-count', '3');
    await page.screenshot({ path: '/tmp/h6-segment-builder.png', fullPage: true });

    await page.getByTestId('save-segment').click();
    await expect(page).toHaveURL(/\/segments\/[0-9a-f-]{36}$/);
    await expect(page.getByTestId('member-count')).toHaveText('3');
    await page.screenshot({ path: '/tmp/h6-segment-detail.png', fullPage: true });

    // Export: the segment's leads as CSV, formula cells neutralized.
    const href = await page.getByTestId('export-csv').getAttribute('href');
    const csv = await (await page.request.get(href!)).text();
    expect(csv).toContain(`anna.${tag}@example.ru`);
    expect(csv).toContain(`oleg.${tag}@example.ru`);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(csv.trim().split('\n')).toHaveLength(4);

    // The segment filters the lead list.
    await page.goto(href!.replace('/export.csv', ''));
    await expect(page.getByTestId('leads-table').locator('tbody tr')).toHaveCount(3);

    await page.goto('/segments');
    await expect(page.getByTestId('segment-row').filter({ hasText: `Kazan and Omsk ${tag}` })).toContainText('3');
    await page.screenshot({ path: '/tmp/h6-segments-list.png', fullPage: true });
  });

  test('a static list from the filtered lead list and from a CSV', async ({ page }) => {
    await page.goto(`/leads?q=${tag}`);
    const form = page.getByTestId('add-to-static');
    await form.getByRole('textbox').fill(`VIP ${tag}`);
    await form.getByRole('button').click();
    await expect(page.getByTestId('add-result')).toContainText('3');

    await page.goto('/segments');
    await page.getByTestId('segment-row').filter({ hasText: `VIP ${tag}` }).getByRole('link').click();
    await expect(page.getByTestId('member-count')).toHaveText('3');
    await page.getByTestId('csv-upload').setInputFiles({ name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from(`email\nanna.${tag}@example.ru\nghost.${tag}@example.ru\n`) });
    await expect(page.getByTestId('csv-result')).toContainText(`ghost.${tag}@example.ru`);
    await page.screenshot({ path: '/tmp/h6-static-list.png', fullPage: true });
  });

  test('reads in Russian', async ({ page }) => {
    await page.goto('/segments/new');
    await page.waitForLoadState('networkidle');
    await page.getByTestId('locale-switch').selectOption('ru');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Новый сегмент');
    await page.getByTestId('add-condition').click();
    await page.getByTestId('condition').first().getByTestId('cond-kind').selectOption('event');
    await expect(page.getByTestId('live-count')).toContainText('Подходит лидов');
    await page.screenshot({ path: '/tmp/h6-segment-builder-ru.png', fullPage: true });
    // Back to English so the shared admin reads the language the other specs expect.
    await page.getByTestId('locale-switch').selectOption('en');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('New segment');
  });
});
