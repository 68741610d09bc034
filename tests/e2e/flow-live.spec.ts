import { expect, test, type Page } from '@playwright/test';
import { ensureAdmin } from './support/auth';

/**
 * A published flow's live view and a change to it: a lead enrolled while the page is open shows up
 * in its step's count without a reload; a new draft that removes that step opens the publish
 * dialog with the right count, and migrating moves the lead to the chosen step.
 */
const tag = `l${Date.now().toString(36)}`;
const slug = `live-${tag}`;
const email = `live.${tag}@example.ru`;

const v1 = {
  slug,
  name: `Live drip ${tag}`,
  trigger: { type: 'manual' },
  start: 'hello',
  nodes: {
    hello: { kind: 'send_email', label: 'Hello email', template: 'welcome-1-ru', next: 'pause', position: { x: 0, y: 0 } },
    pause: { kind: 'wait', label: 'Wait 3 days', wait: { type: 'duration', duration: { amount: 3, unit: 'days' } }, next: 'follow', position: { x: 0, y: 160 } },
    follow: { kind: 'send_email', label: 'Follow-up', template: 'welcome-2-ru', next: 'done', position: { x: 0, y: 320 } },
    done: { kind: 'exit', label: 'Done', position: { x: 0, y: 480 } }
  }
};

/** v2 drops the 3-day wait for a 1-day one under a new id. */
const v2 = {
  ...v1,
  nodes: {
    ...Object.fromEntries(Object.entries(v1.nodes).filter(([id]) => id !== 'pause')),
    hello: { ...v1.nodes.hello, next: 'short' },
    short: { kind: 'wait', label: 'Wait 1 day', wait: { type: 'duration', duration: { amount: 1, unit: 'days' } }, next: 'follow', position: { x: 0, y: 160 } }
  }
};

async function call(page: Page, path: string, input: unknown, method: 'query' | 'mutation' = 'mutation') {
  const res =
    method === 'mutation'
      ? await page.request.post(`/api/trpc/${path}`, { data: input })
      : await page.request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`);
  expect(res.ok(), await res.text()).toBe(true);
  return (await res.json()).result.data;
}

test.describe.configure({ mode: 'serial' });

test.beforeEach(async ({ page }) => {
  await ensureAdmin(page);
});

test('live counts move without a reload, and a changed flow migrates its running lead', async ({ page }) => {
  await call(page, 'flowRuntime.publish', { slug, definition: v1, choice: { mode: 'keep' } });
  await page.goto(`/workflows/${slug}`);
  await expect(page.getByTestId('live-canvas')).toBeVisible();
  await expect(page.getByTestId('live-updated')).toBeVisible();

  // Enrolled while the page is open: the count moves on the next poll, no reload.
  const { leadId } = await call(page, 'leads.create', { lead: { email, name: `Анна ${tag}` } });
  await call(page, 'workflows.enroll', { slug, leadIds: [leadId] });
  await expect(page.getByTestId('count-now-pause')).toContainText('1', { timeout: 10_000 });
  await expect(page.getByTestId('count-passed-hello')).toContainText('1', { timeout: 10_000 });
  await expect(page.getByTestId('count-sent-hello')).toContainText('1', { timeout: 10_000 });

  // A count lists its leads.
  await page.getByTestId('count-now-pause').click();
  await expect(page.getByTestId('live-leads')).toContainText(`Анна ${tag}`);
  await page.screenshot({ path: '/tmp/h2-live.png', fullPage: true });

  // Edit the live flow through its draft, then publish from the designer.
  const loaded = await call(page, 'designer.load', { slug }, 'query');
  await call(page, 'designer.saveDraft', { slug, definition: v2, baseRevision: loaded.draft.revision });
  await page.goto(`/workflows/${slug}/design`);
  await page.getByTestId('publish').click();
  const dialog = page.getByTestId('publish-dialog');
  await expect(dialog.getByTestId('publish-diff')).toContainText('Removed: 1');
  await expect(dialog.getByTestId('publish-diff')).toContainText('Added: 1');
  const removed = dialog.getByTestId('publish-affected').locator('tr[data-node="pause"]');
  await expect(removed).toContainText('removed');
  await expect(removed.getByTestId('affected-count')).toContainText('1');
  await dialog.getByTestId('mode-migrate').check();
  await expect(dialog.getByTestId('map-pause')).toHaveValue('follow');
  await dialog.getByTestId('map-pause').selectOption('short');
  await page.screenshot({ path: '/tmp/h2-publish.png' });
  await dialog.getByTestId('publish-submit').click();
  await expect(dialog.getByTestId('publish-done')).toContainText('Published version 2. Moved 1 leads');

  // The simulator in the designer: a sample lead who never clicks gets both emails, days apart.
  await page.keyboard.press('Escape');
  await page.getByTestId('simulate').click();
  const sim = page.getByTestId('simulator');
  await sim.getByTestId('sim-run').click();
  await expect(sim.getByTestId('sim-outcome')).toContainText('Left the flow on day 1');
  await expect(sim.getByTestId('sim-email')).toHaveCount(2);
  await page.screenshot({ path: '/tmp/h2-simulate.png', fullPage: true });

  // The lead now waits in the new step, and its timeline says why.
  await page.goto(`/workflows/${slug}`);
  await expect(page.getByTestId('count-now-short')).toContainText('1', { timeout: 10_000 });
  await expect(page.getByTestId('versions')).toContainText('version 2');
  const path = await call(page, 'leads.timeline', { id: leadId }, 'query').catch(() => null);
  if (path) expect(JSON.stringify(path)).toContain('workflow_migrated');
});

test('a shipped flow reads clearly in the live view', async ({ page }) => {
  await page.goto('/workflows/webinar-nurture');
  await expect(page.getByTestId('count-now-ru_registered')).toBeVisible();
  await page.waitForTimeout(500);
  await page.screenshot({ path: '/tmp/h2-live-webinar.png', fullPage: true });
});

test('a broken import is refused with its problems by path, and nothing is added', async ({ page }) => {
  await page.goto('/workflows');
  const before = await page.getByTestId('workflow-row').count();
  await page.getByTestId('import-toggle').click();
  const broken = { workflow: { ...v1, slug: `imp-${tag}`, nodes: { ...v1.nodes, pause: { kind: 'wait', wait: { type: 'duration', duration: { amount: -2, unit: 'days' } }, next: 'follow' } } }, templates: [] };
  await page.locator('#import-file').setInputFiles({ name: 'flow.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(broken)) });
  await page.getByRole('button', { name: 'Import as draft' }).click();
  await expect(page.getByTestId('import-problems')).toContainText('workflow.nodes.pause.wait.duration.amount');
  await page.screenshot({ path: '/tmp/h2-import.png', fullPage: true });
  await page.reload();
  await expect(page.getByTestId('workflow-row')).toHaveCount(before);

  // The same flow fixed imports as a draft and opens the designer.
  await page.getByTestId('import-toggle').click();
  const fixed = { ...broken, workflow: { ...v1, slug: `imp-${tag}`, name: `Imported ${tag}` } };
  await page.locator('#import-file').setInputFiles({ name: 'flow.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(fixed)) });
  await page.getByRole('button', { name: 'Import as draft' }).click();
  await expect(page).toHaveURL(new RegExp(`/workflows/imp-${tag}/design$`));
});
