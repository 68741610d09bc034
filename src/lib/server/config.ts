import path from 'node:path';
import { z } from 'zod';
import { isTimeZone, parseFrequencyCap, parseSendWindow } from './email/send-rules';

/**
 * Environment, parsed once. A bad value stops start-up with the variable's name,
 * because a half-configured server is worse than one that refuses to start.
 */
const configSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|file:)?[^\s]+$/, 'expected a SQLite file path, sqlite:<path> or :memory:')
    .optional(),
  PUBLIC_URL: z.url().optional(),
  /** HMAC key of tracking and unsubscribe tokens; unset: one is generated and kept in the settings table. */
  TRACKING_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  SEED: z.enum(['demo', 'none']).default('demo'),
  SESSION_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  WORKFLOWS_DIR: z.string().default('./workflows'),
  /** Requests per minute a single IP may make to public capture endpoints. */
  PUBLIC_RATE_PER_MIN: z.coerce.number().int().min(1).default(60),
  /** Largest body accepted by public JSON endpoints, in bytes. */
  PUBLIC_BODY_LIMIT: z.coerce.number().int().min(1024).default(64 * 1024),
  /**
   * Where the workflow worker (event dispatch, scoring, timers, outbox) runs: `thread` (default)
   * in a worker thread of the serving process, so it uses a second core and never delays a
   * request; `on` in the serving thread itself; `off` not here (run `npm run worker` elsewhere).
   * Outside `npm start` (vite dev, tests) `thread` runs it in-process like `on`.
   */
  WORKER: z.enum(['thread', 'on', 'off']).default('thread'),
  /** Comma-separated hosts webhooks may reach even though they resolve to private addresses. */
  WEBHOOK_ALLOW_HOSTS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((h) => h.trim()).filter(Boolean)),
  /** The zone for leads whose own zone is unknown (no timezone, phone or known country). */
  WORKSPACE_TIMEZONE: z.string().default('Europe/Moscow').refine(isTimeZone, 'expected an IANA time zone such as Europe/Moscow'),
  /** Marketing sends wait for this window in the lead's zone, e.g. "mon-fri 09:00-18:00"; empty = any time. */
  SEND_WINDOW: z.string().default('').refine((s) => s.trim() === '' || tryParse(() => parseSendWindow(s)), 'expected e.g. "mon-fri 09:00-18:00"'),
  /** At most N marketing emails per lead per period across all flows, e.g. "3/7d"; empty = no cap. */
  FREQUENCY_CAP: z.string().default('').refine((s) => s.trim() === '' || tryParse(() => parseFrequencyCap(s)), 'expected e.g. "3/7d"'),
  /** The sender's name and postal address printed in every email's footer (anti-spam laws ask for it). */
  WORKSPACE_NAME: z.string().max(200).default('Nurture'),
  WORKSPACE_ADDRESS: z.string().max(500).default(''),
  /** smtp://user:pass@host:port or smtps://…; unset keeps every email in the in-app Mailbox. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, 'expected smtp://user:pass@host:port or smtps://…')
    .optional(),
  /** The sender, e.g. `"Команда Nurture" <hello@example.ru>`. */
  SMTP_FROM: z.string().default('Nurture <no-reply@nurture.local>'),
  SMTP_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(5),
  /** Messages per second across the pool; 0 means no limit. */
  SMTP_RATE_PER_SEC: z.coerce.number().int().min(0).default(0),
  /** DKIM signs every message when the domain, the selector and a key are all set. */
  DKIM_DOMAIN: z.string().optional(),
  DKIM_SELECTOR: z.string().optional(),
  /** PEM text of the DKIM private key (or DKIM_PRIVATE_KEY_FILE, a path to it). */
  DKIM_PRIVATE_KEY: z.string().optional(),
  DKIM_PRIVATE_KEY_FILE: z.string().optional()
});

function tryParse(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}

export type Config = z.infer<typeof configSchema> & { databasePath: string };

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return { ...c, databasePath: resolveDatabasePath(c.DATABASE_URL, c.DATA_DIR) };
}

function resolveDatabasePath(url: string | undefined, dataDir: string): string {
  if (!url) return path.resolve(dataDir, 'nurture.db');
  const bare = url.replace(/^sqlite:(\/\/)?/, '').replace(/^file:(\/\/)?/, '');
  return bare === ':memory:' ? bare : path.resolve(bare);
}
