/**
 * The layer under the REST endpoints, on a real migrated SQLite: API keys (verify, revoke, stored
 * hashed), event ingestion (idempotency, unmatched leads), lead capture through the API's body
 * rules, and the `api-key` CLI in a real child process. The HTTP endpoints themselves are covered
 * by tests/e2e/api.spec.ts against the built server.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { apiEventSchema, parseApiLead } from '../../src/lib/shared/api';
import { InputError } from '../../src/lib/server/services/deps';
import { createNodeApiHandler } from '../../src/lib/server/http/api-node';
import { serveApiRequest } from '../../src/lib/server/http/api-web';
import { createEventsService } from '../../src/lib/server/services/events.service';
import { createSqliteGroupCommit } from '../../src/lib/server/services/sqlite-group-commit';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp();
});
afterEach(async () => {
  await app.close();
});

const admin = { id: null, label: 'test-admin' };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const countEvents = async () => Number((await app.deps.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

function apiLead(body: unknown) {
  const r = parseApiLead(body);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r;
}

describe('API keys', () => {
  it('stores only the hash, verifies the key, and refuses it once revoked', async () => {
    const k = await app.services.apiKeys.create(admin, 'CRM sync');
    expect(k.key).toMatch(/^nrt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    const row = await app.deps.db.selectFrom('api_keys').selectAll().where('id', '=', k.id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(sha256(k.key));
    expect(JSON.stringify(row)).not.toContain(k.key);
    expect(k.key.startsWith(row.prefix)).toBe(true);

    expect(await app.services.apiKeys.verify(k.key)).toEqual(expect.objectContaining({ id: k.id, name: 'CRM sync' }));
    expect(await app.services.apiKeys.verify(`${k.key}x`)).toBeNull();
    expect(await app.services.apiKeys.verify('Bearer nonsense')).toBeNull();
    expect(await app.services.apiKeys.verify(undefined)).toBeNull();

    expect(await app.services.apiKeys.revoke(admin, k.id)).toBe(true);
    // The verification cache is dropped on revoke, so the very next call is refused.
    expect(await app.services.apiKeys.verify(k.key)).toBeNull();
    expect(await app.services.apiKeys.revoke(admin, k.id)).toBe(false);
    const audit = await app.deps.db.selectFrom('audit_log').select(['action', 'actor_label']).where('entity_id', '=', k.id).orderBy('at').execute();
    expect(audit.map((a) => a.action)).toEqual(['api_key.create', 'api_key.revoke']);
  });

  it('refuses an empty name, naming the field', async () => {
    await expect(app.services.apiKeys.create(admin, '   ')).rejects.toThrow(InputError);
  });
});

describe('lead bodies of POST /api/v1/leads', () => {
  it('lists every issue with its field path, including unknown keys and lead rules', () => {
    const r = parseApiLead({ email: 'not-an-email', phone: 12, utm: { utm_source: 5 }, colour: 'red' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const fields = r.issues.map((i) => i.field).sort();
    expect(fields).toEqual(['colour', 'email', 'phone', 'utm.utm_source']);
    expect(r.issues.find((i) => i.field === 'email')!.message).toMatch(/not a valid email/);
  });

  it('needs an email or a phone, and a JSON object', () => {
    const none = parseApiLead({ name: 'Без контактов' });
    expect(none.ok || none.issues).toEqual([{ field: 'email', message: 'an email or a phone is required' }]);
    const arr = parseApiLead([1, 2]);
    expect(arr.ok).toBe(false);
  });

  it('creates then merges by email or phone through capture, with the channel and UTM', async () => {
    const first = apiLead({ email: 'Olga@Vector.ru', name: 'Ольга', channel: 'Партнёры', utm: { utm_source: 'crm', utm_campaign: 'q1' } });
    const a = await app.services.capture.capture({ input: first.input, source: 'api', channelName: first.lead.channel, touch: first.lead.utm, actor: { id: null, label: 'api-key:CRM' } });
    expect(a).toMatchObject({ created: true, merged: false });
    const second = apiLead({ phone: '+7 916 555-00-11', email: 'olga@vector.ru', company: 'Вектор' });
    const b = await app.services.capture.capture({ input: second.input, source: 'api', actor: { id: null, label: 'api-key:CRM' } });
    expect(b).toMatchObject({ leadId: a.leadId, created: false, merged: true });
    const got = await app.services.leads.get(a.leadId);
    if (!('lead' in got)) throw new Error('expected a lead');
    expect(got.lead).toMatchObject({ email: 'olga@vector.ru', phone: '+79165550011', company: 'Вектор', channelName: 'Партнёры' });
  });
});

describe('event ingestion', () => {
  const actor = { id: null, label: 'api-key:CRM' };
  const ev = (body: unknown) => apiEventSchema.parse(body);

  it('attaches an event to the lead by email and stores a repeated idempotency key once', async () => {
    const lead = await app.services.capture.capture({ input: apiLead({ email: 'ivan@x.ru' }).input, source: 'api', actor });
    const before = await countEvents();
    const body = { email: 'IVAN@x.ru', type: 'demo_requested', properties: { plan: 'pro' }, idempotencyKey: 'crm-1' };
    const one = await app.services.events.ingest(actor, ev(body));
    expect(one).toMatchObject({ leadId: lead.leadId, duplicate: false });
    const two = await app.services.events.ingest(actor, ev({ ...body, properties: { plan: 'other' } }));
    expect(two).toEqual({ eventId: one.eventId, leadId: lead.leadId, duplicate: true });
    expect(await countEvents()).toBe(before + 1);
    const timeline = await app.services.leads.timeline(lead.leadId);
    expect(timeline[0]).toMatchObject({ type: 'demo_requested', properties: { plan: 'pro' } });
  });

  it('keeps an event for an unknown email unmatched instead of dropping it', async () => {
    const r = await app.services.events.ingest(actor, ev({ email: 'stranger@nowhere.ru', type: 'page_viewed', occurredAt: '2026-01-10T10:00:00+03:00' }));
    expect(r).toMatchObject({ leadId: null, duplicate: false });
    const row = await app.deps.db.selectFrom('events').selectAll().where('id', '=', r.eventId).executeTakeFirstOrThrow();
    expect(row.lead_id).toBeNull();
    expect(JSON.parse(row.properties)).toEqual({ $unmatchedEmail: 'stranger@nowhere.ru' });
    expect(row.occurred_at).toBe(Date.parse('2026-01-10T07:00:00Z'));
  });

  it('refuses reserved types, unknown lead ids and bodies without a lead reference', async () => {
    await expect(app.services.events.ingest(actor, ev({ email: 'a@b.ru', type: 'lead_created' }))).rejects.toThrow(/reserved/);
    await expect(app.services.events.ingest(actor, ev({ leadId: 'no-such-lead', type: 'x' }))).rejects.toThrow(/leadId/);
    const bad = apiEventSchema.safeParse({ type: 'Bad Type!' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['email', 'type']);
    expect(apiEventSchema.safeParse({ type: 'ok' }).error!.issues.map((i) => i.path.join('.'))).toEqual(['email']);
    expect(await countEvents()).toBe(0);
  });
});

/**
 * The raw Node fast path (api-node.ts) that `npm start` puts before SvelteKit, over real HTTP on an
 * ephemeral port. Whatever it does not own falls through to the next handler (SvelteKit in prod).
 */
describe('event group commit', () => {
  const actor = { id: null, label: 'api-key:CRM' };
  const ev = (body: unknown) => apiEventSchema.parse(body);
  /** The same mixed calls, all started in one tick so the SQLite path stores them in one batch. */
  const mixedCalls = (svc: ReturnType<typeof createEventsService>) =>
    Promise.allSettled([
      svc.ingest(actor, ev({ email: 'ivan@x.ru', type: 'a', idempotencyKey: 'same' })),
      svc.ingest(actor, ev({ email: 'IVAN@x.ru', type: 'a', idempotencyKey: 'same' })),
      svc.ingest(actor, ev({ leadId: 'no-such-lead', type: 'b' })),
      svc.ingest(actor, ev({ email: 'nobody@x.ru', type: 'c', properties: { n: 1 } }))
    ]);

  it('answers each call of a batch on its own: duplicates inside it, an unknown lead alone refused', async () => {
    const lead = await app.services.capture.capture({ input: apiLead({ email: 'ivan@x.ru' }).input, source: 'api', actor });
    const before = await countEvents();
    const [first, again, unknown, stranger] = await mixedCalls(app.services.events);
    expect(first).toEqual({ status: 'fulfilled', value: { eventId: expect.any(String), leadId: lead.leadId, duplicate: false } });
    expect(again).toEqual({ status: 'fulfilled', value: { ...(first as PromiseFulfilledResult<object>).value, duplicate: true } });
    expect(unknown.status === 'rejected' && unknown.reason).toBeInstanceOf(InputError);
    expect(stranger).toMatchObject({ status: 'fulfilled', value: { leadId: null, duplicate: false } });
    expect(await countEvents()).toBe(before + 2);
  });

  it('gives the same answers through Kysely when there is no raw SQLite handle', async () => {
    const lead = await app.services.capture.capture({ input: apiLead({ email: 'ivan@x.ru' }).input, source: 'api', actor });
    const [first, again, unknown, stranger] = await mixedCalls(createEventsService(app.deps));
    expect(first).toMatchObject({ status: 'fulfilled', value: { leadId: lead.leadId, duplicate: false } });
    expect(again).toEqual({ status: 'fulfilled', value: { ...(first as PromiseFulfilledResult<object>).value, duplicate: true } });
    expect(unknown.status).toBe('rejected');
    const row = await app.deps.db.selectFrom('events').selectAll().where('type', '=', 'c').executeTakeFirstOrThrow();
    expect(row.id).toBe((stranger as PromiseFulfilledResult<{ eventId: string }>).value.eventId);
    expect(JSON.parse(row.properties)).toEqual({ n: 1, $unmatchedEmail: 'nobody@x.ru' });
  });

  it('commits the rest of a batch when one write in it fails, and settles each call after the commit', async () => {
    const sqlite = app.database.sqlite;
    sqlite.exec('CREATE TABLE gc_probe (v INTEGER NOT NULL CHECK (v > 0))');
    const insert = sqlite.prepare('INSERT INTO gc_probe (v) VALUES (?)');
    const write = createSqliteGroupCommit(app.deps.db, sqlite, (v: number) => {
      insert.run(v);
      // Still inside the batch's transaction: an answer never goes out before the commit.
      expect(sqlite.inTransaction).toBe(true);
      return v * 10;
    });
    const results = await Promise.allSettled([1, 2, -3, 4].map(write));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[3] as PromiseFulfilledResult<number>).value).toBe(40);
    expect(sqlite.prepare('SELECT v FROM gc_probe ORDER BY rowid').pluck().all()).toEqual([1, 2, 4]);
  });
});

describe('REST API on the raw Node path', () => {
  let server: http.Server;
  let base = '';
  let key = '';
  beforeEach(async () => {
    key = (await app.services.apiKeys.create(admin, 'CRM')).key;
    const api = createNodeApiHandler(() => app);
    server = http.createServer((req, res) => {
      if (api(req, res)) return;
      res.writeHead(418).end('fell through');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const call = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers } });

  it('stores an event once per idempotency key and answers 202 JSON', async () => {
    const lead = await app.services.capture.capture({ input: apiLead({ email: 'anna@x.ru' }).input, source: 'api', actor: admin });
    const before = await countEvents();
    const body = JSON.stringify({ email: 'Anna@x.ru', type: 'demo_requested', idempotencyKey: 'k1' });
    const one = await call('/api/v1/events?via=test', body);
    expect(one.status).toBe(202);
    expect(one.headers.get('content-type')).toMatch(/^application\/json/);
    expect(one.headers.get('x-content-type-options')).toBe('nosniff');
    const r1 = await one.json();
    expect(r1).toEqual({ eventId: expect.any(String), leadId: lead.leadId, duplicate: false });
    expect(await (await call('/api/v1/events', body)).json()).toEqual({ ...r1, duplicate: true });
    expect(await countEvents()).toBe(before + 1);
  });

  it('refuses a bad key, a wrong type, bad JSON and invalid fields, storing nothing', async () => {
    for (const authorization of ['', 'Bearer nrt_00000000_nope', `Bearer ${key}x`]) {
      const res = await call('/api/v1/events', '{}', { authorization });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await call('/api/v1/leads', '{}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect(await (await call('/api/v1/leads', '{"email":')).json()).toMatchObject({ error: 'invalid_json' });
    const bad = await call('/api/v1/events', JSON.stringify({ type: 'Bad Type', extra: 1 }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()).issues as { field: string }[]).map((i) => i.field).sort()).toEqual(['email', 'extra', 'type']);
    expect(await countEvents()).toBe(0);
  });

  it('answers 413 for a declared or a streamed body over the limit', async () => {
    const big = JSON.stringify({ email: 'a@b.ru', type: 'big', properties: { blob: 'x'.repeat(70 * 1024) } });
    const declared = await call('/api/v1/events', big);
    expect(declared.status).toBe(413);
    expect(declared.headers.get('connection')).toBe('close');
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('y'.repeat(8 * 1024));
      req.end();
    });
    expect(streamed).toBe(413);
    expect(await countEvents()).toBe(0);
  });

  it('answers a JSON 500 instead of crashing when the app has stopped', async () => {
    const stopped = createNodeApiHandler(() => {
      throw new Error('The app is not started yet');
    });
    const errors: unknown[] = [];
    const log = console.error;
    console.error = (...a: unknown[]) => errors.push(a);
    try {
      const s = http.createServer((req, res) => void stopped(req, res));
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/api/v1/events`, { method: 'POST', body: '{}' });
      s.closeAllConnections();
      s.close();
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: 'internal', message: 'Internal error' });
      expect(errors).toHaveLength(1);
    } finally {
      console.error = log;
    }
  });

  it('leaves other methods and paths to the next handler', async () => {
    expect((await fetch(`${base}/api/v1/events`)).status).toBe(418);
    expect((await call('/api/v1/events/', '{}')).status).toBe(418);
    expect((await call('/api/v1/unknown', '{}')).status).toBe(418);
  });
});

/** The Fetch API adapter the SvelteKit routes use (`vite dev`, `node build`): same core, same answers. */
describe('REST API through Request/Response', () => {
  const request = (key: string, body: BodyInit, headers: Record<string, string> = {}) =>
    new Request('http://localhost/api/v1/events', { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, duplex: 'half' } as RequestInit);

  it('stores an event, and caps a streamed body that declares no length', async () => {
    const { key } = await app.services.apiKeys.create(admin, 'CRM');
    const ok = await serveApiRequest(app, request(key, JSON.stringify({ email: 'x@y.ru', type: 'page_viewed' })), '/api/v1/events');
    expect(ok.status).toBe(202);
    expect(await ok.json()).toMatchObject({ leadId: null, duplicate: false });
    const chunk = new TextEncoder().encode('y'.repeat(8 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => (sent++ < 10 ? c.enqueue(chunk) : c.close()) });
    const big = await serveApiRequest(app, request(key, stream), '/api/v1/events');
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: 'payload_too_large' });
    expect((await serveApiRequest(app, request('nrt_nope', '{}'), '/api/v1/events')).status).toBe(401);
  });
});

describe('npm run cli -- api-key', () => {
  const exec = promisify(execFile);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-cli-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) =>
    exec('npx', ['tsx', 'src/lib/server/cli/main.ts', 'api-key', ...args], {
      env: { ...process.env, DATABASE_URL: path.join(dir, 'cli.db'), SEED: 'none' }
    });

  it('prints a new key once, stores its hash, lists and revokes it', async () => {
    const { stdout } = await cli('create', '--name', 'Битрикс24');
    const key = /^key: (nrt_\S+)$/m.exec(stdout)?.[1];
    const id = /^id: (\S+)$/m.exec(stdout)?.[1];
    expect(key).toBeDefined();
    expect(id).toBeDefined();

    const db = new SQLite(path.join(dir, 'cli.db'), { readonly: true });
    try {
      const rows = db.prepare('select id, name, key_hash from api_keys').all() as { id: string; name: string; key_hash: string }[];
      expect(rows).toEqual([{ id, name: 'Битрикс24', key_hash: sha256(key!) }]);
      expect(db.prepare("select actor_label from audit_log where action = 'api_key.create'").pluck().get()).toBe('cli');
    } finally {
      db.close();
    }

    const listed = await cli('list');
    expect(listed.stdout).toContain(id!);
    expect(listed.stdout).not.toContain(key!);
    expect((await cli('revoke', id!)).stdout).toContain(`revoked ${id}`);
    expect((await cli('list')).stdout).toMatch(/revoked \d{4}-/);
    await expect(cli('create')).rejects.toMatchObject({ code: 2 });
  });
});
