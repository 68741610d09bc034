import { expect, test, type Locator, type Page } from '@playwright/test';
import { ensureAdmin } from './support/auth';

/**
 * The flow designer as a new marketer meets it: create an empty flow, build a three-email drip
 * with a wait-for-click branch using the mouse and the keyboard, watch a problem appear on a node
 * and go away, read the paths, autosave, and the two-editors warning.
 */

test.use({ viewport: { width: 1440, height: 900 } });

const node = (page: Page, id: string) => page.locator(`.svelte-flow__node[data-id="${id}"]`);

/** Drags with real mouse moves (Svelte Flow listens to pointer events, not HTML drag and drop). */
async function mouseDrag(page: Page, from: Locator, to: Locator) {
  const a = (await from.boundingBox())!;
  const b = (await to.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

/** Boxes of all drawn nodes must not overlap, and exit labels must fit their row. */
async function expectTidy(page: Page) {
  const boxes = await page.locator('.svelte-flow__node').evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-id'), r: e.getBoundingClientRect().toJSON() as DOMRect })));
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [p, q] = [boxes[i].r, boxes[j].r];
      const overlap = p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom;
      expect(overlap, `${boxes[i].id} overlaps ${boxes[j].id}`).toBe(false);
    }
  const cut = await page.locator('.svelte-flow__node .exit-label, .svelte-flow__node .kind').evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
  expect(cut).toEqual([]);
}

test('build a drip on an empty canvas with mouse and keyboard, see checks and paths, autosave', async ({ page }) => {
  await ensureAdmin(page);
  await page.goto('/workflows/new');
  await page.waitForLoadState('networkidle');
  await page.getByLabel(/flow name/i).fill('E2E drip');
  await expect(page.getByLabel(/address/i)).toHaveValue('e2e-drip');
  await page.getByTestId('create-flow').click();
  await expect(page).toHaveURL(/\/workflows\/e2e-drip\/design$/);
  await page.waitForLoadState('networkidle');
  await expect(page.getByTestId('empty-canvas')).toBeVisible();
  await expect(page.getByTestId('publish')).toBeDisabled();

  // Mouse: drag "Send email" from the palette onto the canvas.
  await page.getByTestId('palette-send_email').dragTo(page.locator('.svelte-flow__pane'), { targetPosition: { x: 160, y: 160 } });
  await expect(node(page, 'send_email_1')).toBeVisible();
  await expect(page.getByTestId('node-panel')).toBeVisible();
  await page.getByLabel(/email template/i).selectOption('welcome-1-en');
  await expect(node(page, 'send_email_1')).toContainText('welcome-1-en');

  // Keyboard: Enter on palette items adds each after the selected step and wires it.
  await page.getByTestId('palette-wait_until').focus();
  await page.keyboard.press('Enter');
  await expect(node(page, 'wait_until_1')).toBeVisible();
  await expect(node(page, 'wait_until_1')).toContainText('email_clicked');
  await page.getByTestId('palette-exit').focus();
  await page.keyboard.press('Enter');
  await expect(node(page, 'exit_1')).toBeVisible();

  // Back to the wait (Alt+↑ follows the arrow back), then its open exit, the timeout, gets the next email.
  await node(page, 'exit_1').focus();
  await page.keyboard.press('Alt+ArrowUp');
  await expect(node(page, 'wait_until_1')).toBeFocused();
  await expect(page.getByTestId('node-panel')).toContainText(/wait for event/i);
  for (const kind of ['send_email', 'wait', 'send_email']) {
    await page.getByTestId(`palette-${kind}`).focus();
    await page.keyboard.press('Enter');
  }
  // Tidy lays the flow out left to right and fits it in view.
  await page.getByTestId('tidy').click();
  await page.waitForTimeout(400);
  await node(page, 'send_email_2').click();
  await page.getByLabel(/email template/i).selectOption('welcome-2-en');
  await node(page, 'send_email_3').click();
  await page.getByLabel(/email template/i).selectOption('welcome-3-en');

  // The last email leads nowhere yet: a problem shows on the node and blocks publishing.
  await expect(node(page, 'send_email_3').locator('.face')).toHaveClass(/has-error/);
  await expect(page.getByTestId('error-count')).toHaveText('1');
  await expect(page.getByTestId('publish')).toBeDisabled();
  await expect(page.getByTestId('publish-why')).toBeVisible();

  // Mouse: connect its exit handle to the exit step; the problem goes away.
  await mouseDrag(page, node(page, 'send_email_3').locator('.svelte-flow__handle[data-handleid="next"]'), node(page, 'exit_1').locator('.svelte-flow__handle.target'));
  await expect(node(page, 'send_email_3').locator('.face')).not.toHaveClass(/has-error/);
  await expect(page.getByTestId('error-count')).toHaveCount(0);
  await expect(page.getByTestId('publish')).toBeEnabled();

  // Keyboard delete and undo.
  await node(page, 'wait_1').click();
  await node(page, 'wait_1').focus();
  await page.keyboard.press('Delete');
  await expect(node(page, 'wait_1')).toHaveCount(0);
  await expect(page.getByTestId('error-count')).toHaveText('1');
  await page.locator('.svelte-flow__pane').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Control+z');
  await expect(node(page, 'wait_1')).toBeVisible();
  await expect(page.getByTestId('error-count')).toHaveCount(0);

  // The checks tab lists no problems and the paths in words.
  await page.getByTestId('tab-checks').click();
  await expect(page.getByTestId('no-problems')).toBeVisible();
  const paths = page.getByTestId('path-list');
  await expect(paths).toContainText(/never clicks gets 3 emails over 5 days/);
  await expect(paths).toContainText(/who clicks gets 1 email at once/);

  // Autosaved: reload shows the same flow.
  await expect(page.getByTestId('save-state')).toHaveText(/^Saved /, { timeout: 10_000 });
  await page.getByTestId('tidy').click();
  await page.waitForTimeout(500);
  await expectTidy(page);
  await page.screenshot({ path: '/tmp/designer-drip.png' });
  await expect(page.getByTestId('save-state')).toHaveText(/^Saved /, { timeout: 10_000 });
  await page.reload();
  await page.waitForLoadState('networkidle');
  await expect(node(page, 'send_email_3')).toContainText('welcome-3-en');
  await expect(page.locator('.svelte-flow__edge')).toHaveCount(6);

  // Simulate and publish open the runtime panels.
  await page.getByTestId('simulate').click();
  await expect(page.locator('.side-body')).not.toContainText(/no problems/i);
  await page.getByTestId('publish').click();
  await expect(page.getByRole('dialog')).toBeVisible();
});

test('two people editing: the second save is refused with a warning, not an overwrite', async ({ browser, page }) => {
  await ensureAdmin(page);
  await page.goto('/workflows/e2e-drip/design');
  await page.waitForLoadState('networkidle');
  const other = await browser.newPage({ storageState: await page.context().storageState() });
  await other.goto('/workflows/e2e-drip/design');
  await other.waitForLoadState('networkidle');

  // They rename a step and their autosave lands first.
  await node(other, 'exit_1').click();
  await other.getByLabel(/step name/i).fill('Their exit');
  await expect(other.getByTestId('save-state')).toHaveText(/^Saved /, { timeout: 10_000 });

  // My edit is based on the older revision: refused, and I am told.
  await node(page, 'send_email_1').click();
  await page.getByLabel(/step name/i).fill('My welcome');
  await expect(page.getByTestId('conflict')).toBeVisible({ timeout: 10_000 });
  await expect(page.getByTestId('conflict')).toContainText(/saved this flow/);
  await expect(page.getByTestId('publish')).toBeDisabled();

  await page.getByTestId('reload-theirs').click();
  await expect(page.getByTestId('conflict')).toHaveCount(0);
  await expect(node(page, 'exit_1')).toContainText('Their exit');
  await expect(node(page, 'send_email_1')).not.toContainText('My welcome');
  await other.close();
});
