/**
 * Tracking and unsubscribe end to end against the built server.
 *
 * Bad tokens are tried on the shared e2e server. The full walk needs a sent message, which no
 * browser action can pick out, so this spec seeds a lead and a sent message in its own temp base
 * (through the tracking stage itself), starts a second built server on it the way `npm start`
 * does (same TRACKING_SECRET, so the test can sign the tokens an email would carry), and walks the
 * confirmation page, the button, the preference page (English and Russian), the pixel, the click
 * and an RFC 8058 one-click POST, checking the database after each step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { expect, test } from '@playwright/test';
import { v7 as uuidv7 } from 'uuid';
import { migrateToLatest, openDatabase } from '../../src/lib/server/db/database';
import { applyTracking, unsubscribeUrls } from '../../src/lib/server/email/tracking';

test.describe.configure({ mode: 'serial' });

const PORT = Number(process.env.E2E_TRACK_PORT ?? 4321);
const ORIGIN = `http://127.0.0.1:${PORT}`;
const SECRET = 'e2e-tracking-secret-0123456789';
const BAD = 'AQFkAAAAAGmVabcdefghijklmnopqrstuvwxyz0123456789_-';

let dir = '';
let dbFile = '';
let server: ChildProcess | undefined;
let unsubToken = '';
let pixelPath = '';
let clickPath = '';
let leadId = '';

test.beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-e2e-track-'));
  dbFile = path.join(dir, 'nurture.db');
  // The migrated base and the tracking stage itself; the rows a send would leave are written directly.
  const database = openDatabase(dbFile);
  try {
    await migrateToLatest(database.db);
    const now = Date.now();
    const sentAt = now - 3_600_000;
    leadId = uuidv7();
    const messageId = uuidv7();
    // Only the columns a send needs; the rest keep their defaults.
    database.sqlite
      .prepare(`INSERT INTO leads (id, email, name, consent_marketing, consent_tracking, source, created_at, updated_at) VALUES (?, ?, ?, 1, 1, 'api', ?, ?)`)
      .run(leadId, 'marina@example.ru', 'Марина Орлова', now, now);
    await database.db
      .insertInto('email_templates')
      .values([
        { id: 'tn', slug: 'digest', name: 'Digest', subject: 's', body: 'b', locale: 'ru', updated_at: 0, topic: 'news' },
        { id: 'tw', slug: 'webinar', name: 'Webinar', subject: 's', body: 'b', locale: 'ru', updated_at: 0, topic: 'webinars' }
      ])
      .execute();
    database.sqlite
      .prepare(`INSERT INTO messages (id, message_key, lead_id, template, to_address, subject, kind, status, attempts, created_at, sent_at) VALUES (?, 'e2e:1', ?, 'digest', ?, 'Новости', 'marketing', 'sent', 1, ?, ?)`)
      .run(messageId, leadId, 'marina@example.ru', sentAt, sentAt);
    const keys = { publicUrl: ORIGIN, secret: SECRET };
    const tracked = await applyTracking(database.db, { ...keys, messageId, html: '<a href="https://shop.example.ru/sale">Скидки</a>', text: '', trackingAllowed: true });
    unsubToken = unsubscribeUrls(keys, messageId).token;
    clickPath = new URL(/href="([^"]+)"/.exec(tracked.html)![1]).pathname;
    pixelPath = new URL(/<img src="([^"]+)"/.exec(tracked.html)![1]).pathname;
  } finally {
    await database.close();
  }
  server = await startServer();
});

test.afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

async function startServer(): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dir, SEED: 'none', WORKER: 'off', PORT: String(PORT), HOST: '127.0.0.1', TRACKING_SECRET: SECRET, PUBLIC_URL: ORIGIN };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['scripts/start.js'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${ORIGIN}/healthz`)).ok) return child;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('tracking e2e server did not start');
}

/** A read-only look at the server's base (WAL lets it read while the server writes). */
function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = new SQLite(dbFile, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
const suppressed = () => query<{ reason: string }>(`SELECT reason FROM suppressions WHERE email = 'marina@example.ru'`)[0]?.reason ?? null;

test('bad and tampered tokens answer 404 and change nothing', async ({ page, request }) => {
  const res = await page.goto(`/u/${BAD}`);
  expect(res?.status()).toBe(404);
  await expect(page.getByText(/not valid or has expired|недействительна/)).toBeVisible();
  await page.screenshot({ path: '/tmp/tracking-unsub-404.png' });
  expect((await request.get(`/t/o/${BAD}`)).status()).toBe(404);
  const click = await request.get(`/t/c/${BAD}`, { maxRedirects: 0 });
  expect(click.status()).toBe(404);
  expect(click.headers()['location']).toBeUndefined();
  expect((await request.get(`/t/c/${BAD}?to=https://evil.example.com`, { maxRedirects: 0 })).status()).toBe(404);
  const post = await request.post(`/u/${BAD}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, data: 'List-Unsubscribe=One-Click' });
  expect(post.status()).toBe(404);
  // Tampering one character of a genuine token on the seeded server is refused too.
  const flipped = unsubToken.slice(0, 10) + (unsubToken[10] === 'A' ? 'B' : 'A') + unsubToken.slice(11);
  expect((await request.get(`${ORIGIN}/u/${flipped}`)).status()).toBe(404);
  expect((await request.get(`${ORIGIN}${clickPath.slice(0, -3)}AAA`, { maxRedirects: 0 })).status()).toBe(404);
  expect(query(`SELECT 1 FROM events WHERE type IN ('email_opened', 'email_clicked')`)).toHaveLength(0);
});

test('pixel and click are recorded; the click goes only to the stored link', async ({ request }) => {
  const pixel = await request.get(`${ORIGIN}${pixelPath}`, { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36' } });
  expect(pixel.status()).toBe(200);
  expect(pixel.headers()['content-type']).toBe('image/gif');
  const click = await request.get(`${ORIGIN}${clickPath}?url=https://evil.example.com`, { maxRedirects: 0, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36' } });
  expect(click.status()).toBe(302);
  expect(click.headers()['location']).toBe('https://shop.example.ru/sale');
  expect(query<{ opens: number; clicks: number }>(`SELECT opens, clicks FROM messages`)[0]).toEqual({ opens: 1, clicks: 1 });
  expect(query<{ type: string }>(`SELECT type FROM events WHERE lead_id = ? AND type LIKE 'email_%' ORDER BY rowid`, leadId).map((e) => e.type)).toEqual(['email_opened', 'email_clicked']);
});

test('the confirmation page changes nothing until its button is pressed', async ({ page }) => {
  await page.goto(`${ORIGIN}/u/${unsubToken}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Unsubscribe from our emails?');
  await expect(page.getByText('ma***@example.ru')).toBeVisible();
  await expect(page.getByText('marina@example.ru')).toHaveCount(0);
  await page.screenshot({ path: '/tmp/tracking-unsub-confirm.png' });
  expect(suppressed()).toBeNull();

  await page.getByRole('button', { name: 'Unsubscribe' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('You are unsubscribed');
  await expect(page).toHaveURL(`${ORIGIN}/u/${unsubToken}`);
  await page.screenshot({ path: '/tmp/tracking-unsub-done.png' });
  expect(suppressed()).toBe('unsubscribed');
  expect(query<{ consent_marketing: number }>(`SELECT consent_marketing FROM leads WHERE id = ?`, leadId)[0].consent_marketing).toBe(0);
});

test('the preference page subscribes again with chosen topics, in Russian too', async ({ browser }) => {
  const ctx = await browser.newContext({ locale: 'ru-RU' });
  const page = await ctx.newPage();
  await page.goto(`${ORIGIN}/u/${unsubToken}/preferences`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Настройки рассылок');
  await expect(page.getByTestId('unsubscribed')).toBeVisible();
  await page.getByLabel('Получать маркетинговые письма').check();
  await page.getByLabel('webinars').uncheck();
  await page.getByRole('button', { name: 'Сохранить настройки' }).click();
  await expect(page.getByTestId('saved')).toHaveText('Настройки сохранены.');
  await expect(page.getByLabel('webinars')).not.toBeChecked();
  await expect(page.getByLabel('news')).toBeChecked();
  await page.screenshot({ path: '/tmp/tracking-prefs-ru.png', fullPage: true });
  await ctx.close();
  expect(suppressed()).toBeNull();
  expect(query<{ topic: string; subscribed: number }>(`SELECT topic, subscribed FROM email_preferences WHERE lead_id = ? ORDER BY topic`, leadId)).toEqual([
    { topic: 'all', subscribed: 1 },
    { topic: 'webinars', subscribed: 0 }
  ]);
  const timeline = query<{ type: string }>(`SELECT type FROM events WHERE lead_id = ? AND type IN ('unsubscribed', 'resubscribed', 'email_preferences_changed') ORDER BY rowid`, leadId);
  expect(timeline.map((e) => e.type)).toEqual(['unsubscribed', 'resubscribed', 'email_preferences_changed']);
});

test("a mail client's RFC 8058 one-click POST unsubscribes without a browser", async ({ request }) => {
  const res = await request.post(`${ORIGIN}/u/${unsubToken}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, data: 'List-Unsubscribe=One-Click' });
  expect(res.status()).toBe(200);
  expect(suppressed()).toBe('unsubscribed');
});
