import { expect, test } from '@playwright/test';
import { ADMIN, ensureAdmin, signIn } from './support/auth';

test.describe('first admin and sign-in', () => {
  test('a new base asks for the first admin, then signs in and out', async ({ page }) => {
    await page.goto('/leads');
    // On the empty base this lands on /setup; if another spec already ran, on /login.
    await expect(page).toHaveURL(/\/(setup|login)/);
    await page.screenshot({ path: 'test-results/auth-first-visit.png' });
    await ensureAdmin(page);
    await expect(page.getByTestId('current-user')).toHaveText(ADMIN.name);
    await page.getByRole('button', { name: /sign out|выйти/i }).click();
    await expect(page).toHaveURL(/\/login/);
    // Set-up is closed once an admin exists.
    await page.goto('/setup');
    await expect(page).toHaveURL(/\/login/);
  });

  test('a wrong password is refused with a message, the session cookie is httpOnly', async ({ page, context }) => {
    await ensureAdmin(page);
    await page.getByRole('button', { name: /sign out|выйти/i }).click();
    await page.getByLabel(/email/i).fill(ADMIN.email);
    await page.getByLabel(/password/i).fill('not-the-password');
    await page.getByRole('button', { name: /sign in/i }).click();
    await expect(page.getByRole('alert')).toContainText(/wrong email or password/i);
    await signIn(page, ADMIN.email, ADMIN.password);
    const cookie = (await context.cookies()).find((c) => c.name === 'nurture_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Lax');
  });

  test('each role signs in and sees only its own areas', async ({ page }) => {
    await ensureAdmin(page);
    for (const role of ['marketer', 'sales'] as const) {
      const email = `e2e-${role}-${Date.now()}@nurture.test`;
      const res = await page.request.post('/api/trpc/users.create', {
        data: { email, name: `E2E ${role}`, password: 'e2e-password-123', role }
      });
      expect(res.ok()).toBe(true);
      const fresh = await page.context().browser()!.newContext({ baseURL: page.url().replace(/\/leads.*$/, '') });
      const p = await fresh.newPage();
      await signIn(p, email, 'e2e-password-123');
      await expect(p.getByRole('link', { name: /^(Leads|Лиды)$/ })).toBeVisible();
      await expect(p.getByRole('link', { name: /^(API keys|API-ключи)$/ })).toHaveCount(0);
      await expect(p.getByRole('link', { name: /^(Forms|Формы)$/ })).toHaveCount(role === 'marketer' ? 1 : 0);
      // New users get Russian by default; the server refuses what the menu hides.
      const keys = await p.request.get('/api/trpc/apiKeys.list');
      expect(keys.status()).toBe(403);
      await fresh.close();
    }
  });

  test('the language switch turns the UI Russian', async ({ page }) => {
    await ensureAdmin(page);
    await page.getByTestId('locale-switch').selectOption('ru');
    await expect(page.getByRole('link', { name: 'Лиды' })).toBeVisible();
    await page.screenshot({ path: 'test-results/auth-ru.png' });
    await page.getByTestId('locale-switch').selectOption('en');
    await expect(page.getByRole('link', { name: 'Leads' })).toBeVisible();
  });
});
