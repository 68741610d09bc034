import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run cli -- workflow ...` as an operator runs it: a real child process on a temp SQLite
 * file, checked through its stdout, stderr, exit code and the rows it left.
 */
const exec = promisify(execFile);
let dir: string;
let dbFile: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec('npx', ['tsx', 'src/lib/server/cli/main.ts', 'workflow', ...args], {
      env: { ...process.env, DATABASE_URL: dbFile, DATA_DIR: dir, SEED: 'none' },
      timeout: 60_000
    });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const welcome = () => JSON.parse(fs.readFileSync(path.resolve('workflows/welcome-sequence/workflow.json'), 'utf8'));

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-wf-cli-'));
  dbFile = path.join(dir, 'cli.db');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('CLI workflow', () => {
  it('refuses a bad file with the JSON path of each problem and publishes nothing', async () => {
    const bad = welcome();
    delete bad.nodes.ru_email_1.template;
    bad.nodes.ru_wait_2.next = 'nowhere';
    bad.trigger = { type: 'event' };
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(bad));
    const r = await cli('publish', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nodes\.ru_email_1\.template: /m);
    expect(r.stderr).toMatch(/^trigger\.eventType: /m);
    expect(r.stdout).toBe('');
    const db = new SQLite(dbFile, { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM workflows').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
    // A graph problem (schema fine) names the node.
    const dangling = welcome();
    dangling.nodes.ru_wait_2.next = 'nowhere';
    fs.writeFileSync(file, JSON.stringify(dangling));
    const r2 = await cli('publish', file);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^nodes\.ru_wait_2: node "ru_wait_2" leads to "nowhere"/m);
  }, 60_000);

  it('publishes versions, enrolls a lead by email and prints stats and the export', async () => {
    const file = path.join(dir, 'welcome.json');
    // Publishing takes the emails folder beside the file, as in workflows/<slug>/.
    fs.cpSync(path.resolve('workflows/welcome-sequence/emails'), path.join(dir, 'emails'), { recursive: true });
    const wf = { ...welcome(), slug: 'cli-welcome', trigger: { type: 'manual' } };
    fs.writeFileSync(file, JSON.stringify(wf));
    const first = await cli('publish', file);
    expect(first.code).toBe(0);
    const p1 = JSON.parse(first.stdout);
    expect(p1).toEqual({ workflowId: expect.any(String), version: 1 });
    expect(JSON.parse((await cli('publish', file)).stdout)).toEqual({ workflowId: p1.workflowId, version: 2 });

    // A lead the CLI can find through its email identity (the app creates it; the CLI only reads).
    const { createApp } = await import('../../src/lib/server/app');
    const { loadConfig } = await import('../../src/lib/server/config');
    const { parseLeadInput } = await import('../../src/lib/server/services/capture.service');
    const app = await createApp({ config: loadConfig({ DATABASE_URL: dbFile, SEED: 'none' }) });
    try {
      await app.services.capture.capture({ input: parseLeadInput({ email: 'Olga@Example.ru', name: 'Ольга' }), source: 'api', actor: { id: null, label: 'test' } });
    } finally {
      await app.close();
    }

    const missing = await cli('enroll', 'cli-welcome', '--email', 'nobody@example.ru');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('email: no lead with email nobody@example.ru');

    const enrolled = await cli('enroll', 'cli-welcome', '--email', 'OLGA@example.ru');
    expect(enrolled.code).toBe(0);
    // The branch and the first email pass in the enrolling step; the lead now waits three days.
    expect(JSON.parse(enrolled.stdout)).toMatchObject({ enrolled: true, status: 'active', node: 'ru_wait_1' });
    const again = await cli('enroll', 'cli-welcome', '--email', 'olga@example.ru');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ enrolled: false });

    const stats = await cli('stats', 'cli-welcome');
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toEqual({ slug: 'cli-welcome', status: 'active', perNode: [{ node: 'ru_wait_1', count: 1 }], finished: 0, goal: 0, exited: 0, failed: 0, failedEffects: 0 });

    const exported = await cli('export', 'cli-welcome');
    expect(JSON.parse(exported.stdout)).toMatchObject({ slug: 'cli-welcome', start: 'language', trigger: { type: 'manual' } });

    const unknown = await cli('stats', 'no-such-flow');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No workflow no-such-flow');
  }, 90_000);
});
