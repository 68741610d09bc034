import { createApp, type App } from '../../src/lib/server/app';
import { loadConfig } from '../../src/lib/server/config';
import { openDatabase } from '../../src/lib/server/db/database';
import { FakeClock } from '../../src/lib/server/ports';
import type { Actor } from '../../src/lib/server/services/deps';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';

export interface TestApp extends App {
  clock: FakeClock;
  /** Creates a user of the role and answers its actor and user id. */
  makeUser(role: 'admin' | 'marketer' | 'sales', email?: string): Promise<{ id: string; actor: Actor }>;
  /** Captures a lead through the API path and lets the worker dispatch its events (scoring, flows). */
  captureLead(fields: Record<string, unknown>): Promise<string>;
}

/**
 * A fresh migrated in-memory SQLite with a fake clock: real SQL, no shared state between suites.
 * `file` puts the base in a file instead, for code that opens a second connection to it.
 */
export async function createTestApp(
  env: Record<string, string> = {},
  opts: { file?: string } = {}
): Promise<TestApp> {
  const file = opts.file ?? ':memory:';
  const config = loadConfig({ DATABASE_URL: file, SEED: 'none', ...env });
  const clock = new FakeClock();
  const app = await createApp({ config, clock, database: openDatabase(file) });
  let n = 0;
  return Object.assign(app, {
    clock,
    async makeUser(role: 'admin' | 'marketer' | 'sales', email?: string) {
      const e = email ?? `${role}${++n}@test.local`;
      const id = await app.services.auth.createUser(
        { id: null, label: 'test' },
        { email: e, name: `Test ${role}`, password: 'password-123456', role }
      );
      return { id, actor: { id, label: e } };
    },
    async captureLead(fields: Record<string, unknown>) {
      const r = await app.services.capture.capture({
        input: parseLeadInput(fields),
        source: 'api',
        actor: { id: null, label: 'test' }
      });
      await app.services.engine.runUntilIdle();
      return r.leadId;
    }
  });
}
