import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import type { WorkflowInput } from '../../src/lib/shared/workflow';

const DAY = 86_400_000;
const system = { id: null, label: 'test' };
let app: TestApp;

beforeEach(async () => {
  app = await createTestApp({ WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
  await app.deps.db
    .insertInto('email_templates')
    .values(['welcome-1', 'welcome-2', 'welcome-3', 'nudge'].map((slug, i) => ({ id: `t${i}`, slug, name: slug, subject: `${slug} для {{ lead.first_name }}`, body: 'Здравствуйте, {{ lead.name }}!', locale: 'ru', updated_at: 0 })))
    .execute();
});
afterEach(() => app.close());

const engine = () => app.services.engine;

async function lead(email: string, extra: Record<string, unknown> = {}) {
  const r = await app.services.capture.capture({ input: parseLeadInput({ email, name: 'Иван Петров', ...extra }), source: 'api', actor: system });
  return r.leadId;
}

async function advance(ms: number, step = 3_600_000) {
  for (let t = 0; t < ms; t += step) {
    app.clock.advance(Math.min(step, ms - t));
    await engine().runUntilIdle();
  }
}

async function instancesOf(leadId: string) {
  return app.deps.db.selectFrom('workflow_instances').selectAll().where('lead_id', '=', leadId).execute();
}

async function mailTo(email: string) {
  return app.deps.db.selectFrom('mailbox_messages').selectAll().where('to_address', '=', email).orderBy('created_at').execute();
}

const drip: WorkflowInput = {
  slug: 'drip',
  name: 'Drip',
  trigger: { type: 'lead_created' },
  start: 'e1',
  nodes: {
    e1: { kind: 'send_email', template: 'welcome-1', next: 'w1' },
    w1: { kind: 'wait', wait: { type: 'duration', duration: { amount: 3, unit: 'days' } }, next: 'e2' },
    e2: { kind: 'send_email', template: 'welcome-2', next: 'w2' },
    w2: { kind: 'wait', wait: { type: 'duration', duration: { amount: 7, unit: 'days' } }, next: 'e3' },
    e3: { kind: 'send_email', template: 'welcome-3', next: 'done' },
    done: { kind: 'exit' }
  }
};

describe('workflow engine', () => {
  it('runs a 3-email drip over 10 days on a fake clock, one email per step', async () => {
    await engine().publish(system, drip);
    const id = await lead('drip@x.ru');
    await engine().runUntilIdle();
    expect((await mailTo('drip@x.ru')).map((m) => m.subject)).toEqual(['welcome-1 для Иван']);
    await advance(3 * DAY);
    expect(await mailTo('drip@x.ru')).toHaveLength(2);
    await advance(7 * DAY);
    const mails = await mailTo('drip@x.ru');
    expect(mails.map((m) => m.template)).toEqual(['welcome-1', 'welcome-2', 'welcome-3']);
    expect(mails[1].created_at - mails[0].created_at).toBe(3 * DAY);
    const [inst] = await instancesOf(id);
    expect(inst).toMatchObject({ status: 'exited', current_node: 'done' });
    const timeline = await app.services.leads.timeline(id);
    expect(timeline.filter((e) => e.type === 'email_sent')).toHaveLength(3);
    expect(timeline.filter((e) => e.type === 'workflow_step').map((e) => e.properties.nodeId).reverse()).toEqual(['e1', 'w1', 'e2', 'w2', 'e3', 'done']);
  });

  it('resumes a wait_until on the event, or takes the timeout branch', async () => {
    await engine().publish(system, {
      slug: 'webinar',
      name: 'Webinar',
      trigger: { type: 'event', eventType: 'webinar_invited' },
      start: 'wait',
      nodes: {
        wait: { kind: 'wait_until', eventType: 'webinar_registered', filter: { webinar: 'crm' }, timeout: { amount: 2, unit: 'days' }, next: 'yes', timeoutNext: 'nudge' },
        yes: { kind: 'set_stage', stage: 'lead', next: 'end' },
        nudge: { kind: 'send_email', template: 'nudge', next: 'end' },
        end: { kind: 'exit' }
      }
    });
    const a = await lead('a@x.ru');
    const b = await lead('b@x.ru');
    for (const email of ['a@x.ru', 'b@x.ru']) await app.services.events.ingest(system, { email, type: 'webinar_invited', properties: {} });
    await engine().runUntilIdle();
    // A different webinar does not match the filter; the right one resumes the flow at once.
    await app.services.events.ingest(system, { email: 'a@x.ru', type: 'webinar_registered', properties: { webinar: 'other' } });
    await engine().runUntilIdle();
    expect((await instancesOf(a))[0].current_node).toBe('wait');
    await app.services.events.ingest(system, { email: 'a@x.ru', type: 'webinar_registered', properties: { webinar: 'crm' } });
    await engine().runUntilIdle();
    expect((await instancesOf(a))[0].status).toBe('exited');
    expect((await app.services.leads.get(a)) as { lead: { stage: string } }).toMatchObject({ lead: { stage: 'lead' } });
    expect(await app.deps.db.selectFrom('workflow_timers').selectAll().where('instance_id', '=', (await instancesOf(a))[0].id).execute()).toEqual([]);
    await advance(2 * DAY);
    expect((await instancesOf(b))[0].status).toBe('exited');
    expect(await mailTo('b@x.ru')).toHaveLength(1);
    expect(await mailTo('a@x.ru')).toHaveLength(0);
  });

  it('moves a lead out when a goal becomes true mid-wait', async () => {
    await engine().publish(system, { ...drip, slug: 'goal-drip', goals: [{ id: 'sql', name: 'Became SQL', condition: { kind: 'stage', op: 'in', value: ['sql', 'customer'] } }] });
    const id = await lead('goal@x.ru');
    await engine().runUntilIdle();
    await advance(DAY);
    const admin = await app.makeUser('admin');
    const bant = { budget: '1 млн ₽', authority: 'CEO', need: 'CRM', timing: 'Q1' };
    await app.services.handoff.changeStage({ id: admin.id, email: admin.actor.label, role: 'admin', isManager: false }, { leadId: id, to: 'sql', fields: bant });
    await engine().runUntilIdle();
    const [inst] = await instancesOf(id);
    expect(inst).toMatchObject({ status: 'goal', current_node: '__goal__sql' });
    await advance(10 * DAY, DAY);
    expect(await mailTo('goal@x.ru')).toHaveLength(1);
  });

  it('branches on fields, scores and past events, and splits A/B deterministically', async () => {
    await engine().publish(system, {
      slug: 'branchy',
      name: 'Branchy',
      trigger: { type: 'manual' },
      start: 'score',
      nodes: {
        score: { kind: 'adjust_score', score: 'engagement', points: 30, reason: 'manual start', next: 'b' },
        b: {
          kind: 'branch',
          cases: [
            { condition: { kind: 'all', conditions: [{ kind: 'score', score: 'engagement', op: 'gte', value: 30 }, { kind: 'field', field: 'city', op: 'eq', value: 'москва' }] }, next: 'moscow' },
            { condition: { kind: 'event', eventType: 'pricing_viewed', within: { amount: 7, unit: 'days' } }, next: 'hot' }
          ],
          elseNext: 'split'
        },
        moscow: { kind: 'update_field', field: 'attr:segment', value: 'moscow', next: 'end' },
        hot: { kind: 'update_field', field: 'attr:segment', value: 'hot', next: 'end' },
        split: { kind: 'ab_split', variants: [{ name: 'A', weight: 1, next: 'a' }, { name: 'B', weight: 1, next: 'bb' }] },
        a: { kind: 'update_field', field: 'attr:segment', value: 'A', next: 'end' },
        bb: { kind: 'update_field', field: 'attr:segment', value: 'B', next: 'end' },
        end: { kind: 'exit' }
      }
    });
    const m = await lead('m@x.ru', { city: 'Москва' });
    const h = await lead('h@x.ru');
    await app.services.events.ingest(system, { email: 'h@x.ru', type: 'pricing_viewed', properties: {} });
    const others = await Promise.all(Array.from({ length: 20 }, (_, i) => lead(`o${i}@x.ru`)));
    await engine().runUntilIdle();
    await engine().enroll(system, 'branchy', [m, h, ...others]);
    await engine().runUntilIdle();
    const seg = async (id: string) => ((await app.services.leads.get(id)) as { lead: { attributes: Record<string, unknown> } }).lead.attributes.segment;
    expect(await seg(m)).toBe('moscow');
    expect(await seg(h)).toBe('hot');
    const split = await Promise.all(others.map(seg));
    expect(new Set(split)).toEqual(new Set(['A', 'B']));
    expect(split.filter((s) => s === 'A').length).toBeGreaterThan(3);
  });

  it('honours re-entry rules', async () => {
    const flow = (mode: WorkflowInput['reentry']): WorkflowInput => ({
      slug: `re-${mode!.mode.replace('_', '-')}`,
      name: 're',
      trigger: { type: 'event', eventType: `ping_${mode!.mode}` },
      reentry: mode,
      start: 'end',
      nodes: { end: { kind: 'exit' } }
    });
    await engine().publish(system, flow({ mode: 'never' }));
    await engine().publish(system, flow({ mode: 'after_exit' }));
    await engine().publish(system, flow({ mode: 'cooldown', cooldown: { amount: 1, unit: 'days' } }));
    const id = await lead('re@x.ru');
    const ping = async (type: string) => {
      await app.services.events.ingest(system, { leadId: id, type, properties: {} });
      await engine().runUntilIdle();
    };
    for (let i = 0; i < 2; i++) for (const t of ['ping_never', 'ping_after_exit', 'ping_cooldown']) await ping(t);
    app.clock.advance(DAY + 1);
    await ping('ping_cooldown');
    const count = async (slug: string) =>
      (await app.deps.db.selectFrom('workflow_instances').innerJoin('workflows', 'workflows.id', 'workflow_instances.workflow_id').select('workflow_instances.id').where('workflows.slug', '=', slug).where('lead_id', '=', id).execute()).length;
    expect(await count('re-never')).toBe(1);
    expect(await count('re-after-exit')).toBe(2);
    expect(await count('re-cooldown')).toBe(2);
  });

  it('keeps running leads on their version while new ones get the new version', async () => {
    await engine().publish(system, drip);
    const old = await lead('old@x.ru');
    await engine().runUntilIdle();
    await engine().publish(system, { ...drip, nodes: { ...drip.nodes, e2: { kind: 'send_email', template: 'nudge', next: 'w2' } } });
    const fresh = await lead('new@x.ru');
    await engine().runUntilIdle();
    await advance(3 * DAY);
    expect((await mailTo('old@x.ru')).map((m) => m.template)).toEqual(['welcome-1', 'welcome-2']);
    expect((await mailTo('new@x.ru')).map((m) => m.template)).toEqual(['welcome-1', 'nudge']);
    const [a] = await instancesOf(old);
    const [b] = await instancesOf(fresh);
    expect(a.version_id).not.toBe(b.version_id);
  });

  it('posts webhooks, retries a 500 with backoff and refuses private hosts not allowed', async () => {
    let calls = 0;
    const seen: unknown[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        calls++;
        seen.push(JSON.parse(body));
        res.statusCode = calls === 1 ? 500 : 200;
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      await engine().publish(system, {
        slug: 'hook',
        name: 'Hook',
        trigger: { type: 'lead_created' },
        start: 'h',
        nodes: { h: { kind: 'webhook', url: `http://127.0.0.1:${port}/hook`, next: 'end' }, end: { kind: 'exit' } }
      });
      await lead('hook@x.ru');
      await engine().runUntilIdle();
      expect(calls).toBe(1);
      app.clock.advance(10_000);
      await engine().runUntilIdle();
      expect(calls).toBe(2);
      const [effect] = await app.deps.db.selectFrom('workflow_outbox').selectAll().execute();
      expect(effect).toMatchObject({ status: 'done', attempts: 2 });
      expect(JSON.parse(effect.result!)).toMatchObject({ status: 200 });
      expect(seen[0]).toEqual(seen[1]);
    } finally {
      server.close();
    }
    const strict = await createTestApp();
    try {
      await strict.services.engine.publish(system, { slug: 'hook2', name: 'h', trigger: { type: 'lead_created' }, start: 'h', nodes: { h: { kind: 'webhook', url: 'http://localhost:9/x', next: 'end' }, end: { kind: 'exit' } } });
      await strict.services.capture.capture({ input: parseLeadInput({ email: 'p@x.ru' }), source: 'api', actor: system });
      await strict.services.engine.runUntilIdle();
      const [effect] = await strict.deps.db.selectFrom('workflow_outbox').selectAll().execute();
      expect(effect.status).toBe('failed');
      expect(effect.last_error).toMatch(/private address/);
    } finally {
      await strict.close();
    }
  });

  it('refuses bad definitions with the path of each problem, publishing nothing', async () => {
    await expect(engine().publish(system, { ...drip, nodes: { ...drip.nodes, e1: { kind: 'send_email', next: 'w1' } } })).rejects.toMatchObject({
      issues: [expect.objectContaining({ field: 'nodes.e1.template' })]
    });
    await expect(engine().publish(system, { ...drip, nodes: { ...drip.nodes, e3: { kind: 'send_email', template: 'x', next: 'nowhere' } } })).rejects.toThrow(/e3.*nowhere/);
    await expect(
      engine().publish(system, { ...drip, start: 'a', nodes: { a: { kind: 'set_stage', stage: 'lead', next: 'b' }, b: { kind: 'adjust_score', score: 'fit', points: 1, next: 'a' } } })
    ).rejects.toThrow(/loop without a wait/);
    expect(await engine().list()).toEqual([]);
  });

  it('marks an instance whose snapshot no longer restores as failed and leaves the others running', async () => {
    await engine().publish(system, drip);
    const bad = await lead('bad@x.ru');
    await lead('good@x.ru');
    await engine().runUntilIdle();
    await app.deps.db.updateTable('workflow_instances').set({ snapshot: '{"status":"active","value":"no-such-node"}' }).where('lead_id', '=', bad).execute();
    await advance(3 * DAY);
    expect((await instancesOf(bad))[0]).toMatchObject({ status: 'failed' });
    expect((await instancesOf(bad))[0].error).toMatch(/restore/);
    expect(await mailTo('good@x.ru')).toHaveLength(2);
  });

  it('stores an event for an unknown lead as unmatched', async () => {
    const r = await app.services.events.ingest(system, { email: 'ghost@x.ru', type: 'page_viewed', properties: { url: '/pricing' } });
    expect(r.leadId).toBeNull();
    const row = await app.deps.db.selectFrom('events').selectAll().where('id', '=', r.eventId).executeTakeFirstOrThrow();
    expect(JSON.parse(row.properties)).toMatchObject({ $unmatchedEmail: 'ghost@x.ru' });
  });
});
