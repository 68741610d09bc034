import { expect, type Page } from '@playwright/test';

/** The admin every browser spec shares: created by whichever spec runs first on the empty base. */
export const ADMIN = { name: 'E2E Админ', email: 'e2e-admin@nurture.test', password: 'e2e-password-123' };

export async function signIn(page: Page, email: string, password: string) {
  await page.goto('/login');
  await page.waitForLoadState('networkidle');
  await page.getByLabel(/email/i).fill(email);
  await page.getByLabel(/password|пароль/i).fill(password);
  await page.getByRole('button', { name: /sign in|войти/i }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

/**
 * Signs in as the shared admin, creating it through /setup when the base is still empty. Waits
 * for the page to settle first: on a cold server the set-up form can hydrate after the fields are
 * typed into, which empties them (a race seen in the leads and admin specs).
 */
export async function ensureAdmin(page: Page) {
  await page.goto('/');
  await page.waitForLoadState('networkidle');
  if (page.url().includes('/setup')) {
    await page.getByLabel(/your name|ваше имя/i).fill(ADMIN.name);
    await page.getByLabel(/email/i).fill(ADMIN.email);
    await page.getByLabel(/password|пароль/i).fill(ADMIN.password);
    await page.getByRole('button', { name: /create admin|создать/i }).click();
    await expect(page).toHaveURL(/\/leads/);
    return;
  }
  if (page.url().includes('/login')) await signIn(page, ADMIN.email, ADMIN.password);
}
