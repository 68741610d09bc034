/**
 * The engine's speed-ups keep its behaviour: precompiled statements bind the right values inside
 * the open transaction, re-entry still finds the lead's latest instance of the right flow, fact
 * events skip flows without goals, edited email templates render afresh, and the worker command
 * reads its interval.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { precompiled } from '../../src/lib/server/repositories/precompiled';
import { parseInterval } from '../../src/lib/server/cli/worker.command';
import type { WorkflowInput } from '../../src/lib/shared/workflow';

const system = { id: null, label: 'test' };
let app: TestApp;

beforeEach(async () => {
  app = await createTestApp();
});
afterEach(() => app.close());

async function lead(email: string) {
  return (await app.services.capture.capture({ input: parseLeadInput({ email, name: 'Анна Смирнова' }), source: 'api', actor: system })).leadId;
}

const settingsByKey = precompiled(2, (db, key: string, minUpdated: number) =>
  db.selectFrom('settings').select(['key', 'value']).where('key', '=', key).where('updated_at', '>=', minUpdated).where('value', '!=', 'constant-kept')
);

describe('engine speed-ups', () => {
  it('runs precompiled statements with fresh values, inside the caller’s transaction', async () => {
    const db = app.deps.db;
    await db.insertInto('settings').values([{ key: 'a', value: '"1"', updated_at: 10 }, { key: 'b', value: '"2"', updated_at: 20 }, { key: 'c', value: 'constant-kept', updated_at: 30 }]).execute();
    expect((await settingsByKey(db, 'a', 0)).rows).toEqual([{ key: 'a', value: '"1"' }]);
    expect((await settingsByKey(db, 'b', 0)).rows).toEqual([{ key: 'b', value: '"2"' }]);
    expect((await settingsByKey(db, 'b', 21)).rows).toEqual([]);
    // The constant in the query survives compilation: 'c' is filtered out by it.
    expect((await settingsByKey(db, 'c', 0)).rows).toEqual([]);
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.updateTable('settings').set({ value: '"changed"' }).where('key', '=', 'a').execute();
        expect((await settingsByKey(trx, 'a', 0)).rows).toEqual([{ key: 'a', value: '"changed"' }]);
        throw new Error('roll back');
      })
    ).rejects.toThrow('roll back');
    expect((await settingsByKey(db, 'a', 0)).rows[0].value).toBe('"1"');
    expect((await sql<{ n: number }>`select count(*) as n from settings where key in ('a', 'b', 'c')`.execute(db)).rows[0].n).toBe(3);
  });

  it('applies re-entry per flow when a lead is in several flows', async () => {
    const flow = (slug: string, mode: 'never' | 'after_exit'): WorkflowInput => ({
      slug,
      name: slug,
      trigger: { type: 'event', eventType: 'ping' },
      reentry: { mode },
      start: 'end',
      nodes: { end: { kind: 'exit' } }
    });
    await app.services.engine.publish(system, flow('once', 'never'));
    await app.services.engine.publish(system, flow('again', 'after_exit'));
    const id = await lead('multi@x.ru');
    for (let i = 0; i < 3; i++) {
      await app.services.events.ingest(system, { leadId: id, type: 'ping', properties: {} });
      await app.services.engine.runUntilIdle();
      app.clock.advance(1000);
    }
    const stats = async (slug: string) => (await app.services.engine.stats(slug)).exited;
    expect(await stats('once')).toBe(1);
    expect(await stats('again')).toBe(3);
  });

  it('does not step instances of a flow without goals when the lead’s fields change', async () => {
    const base: WorkflowInput = {
      slug: 'plain',
      name: 'plain',
      trigger: { type: 'lead_created' },
      start: 'w',
      nodes: { w: { kind: 'wait', wait: { type: 'duration', duration: { amount: 1, unit: 'days' } }, next: 'end' }, end: { kind: 'exit' } }
    };
    await app.services.engine.publish(system, base);
    await app.services.engine.publish(system, { ...base, slug: 'with-goal', goals: [{ id: 'mql', name: 'MQL', condition: { kind: 'stage', op: 'is', value: 'mql' } }] });
    const id = await lead('facts@x.ru');
    await app.services.engine.runUntilIdle();
    const versions = async () =>
      Object.fromEntries(
        (await app.deps.db.selectFrom('workflow_instances').innerJoin('workflows', 'workflows.id', 'workflow_instances.workflow_id').select(['slug', 'workflow_instances.version', 'workflow_instances.status']).where('lead_id', '=', id).execute()).map((r) => [r.slug, [r.version, r.status]])
      );
    const before = await versions();
    const { actor } = await app.makeUser('marketer');
    await app.services.leads.update(actor, id, { company: 'Вектор' });
    await app.services.engine.runUntilIdle();
    // The goal flow was stepped (its goal checked) and is still waiting; the plain one untouched.
    expect(await versions()).toEqual({ plain: before.plain, 'with-goal': [Number(before['with-goal'][0]) + 1, 'active'] });
    await app.services.leads.update(actor, id, { stage: 'mql' });
    await app.services.engine.runUntilIdle();
    expect((await versions())['with-goal'][1]).toBe('goal');
    expect((await versions()).plain).toEqual(before.plain);
  });

  it('renders an edited email template afresh', async () => {
    const db = app.deps.db;
    await db.insertInto('email_templates').values({ id: 't1', slug: 'hello', name: 'hello', subject: 'Привет, {{ lead.first_name }}', body: 'v1', locale: 'ru', updated_at: 0 }).execute();
    await app.services.engine.publish(system, { slug: 'mail', name: 'mail', trigger: { type: 'lead_created' }, reentry: { mode: 'after_exit' }, start: 'm', nodes: { m: { kind: 'send_email', template: 'hello', next: 'end' }, end: { kind: 'exit' } } });
    await lead('first@x.ru');
    await app.services.engine.runUntilIdle();
    await db.updateTable('email_templates').set({ subject: 'Здравствуйте, {{ lead.name }}', body: 'v2' }).where('slug', '=', 'hello').execute();
    await lead('second@x.ru');
    await app.services.engine.runUntilIdle();
    const mails = await db.selectFrom('mailbox_messages').select(['to_address', 'subject', 'body_text']).orderBy('to_address').execute();
    expect(mails).toEqual([
      // The text part carries the layout's footer after the template's own text.
      { to_address: 'first@x.ru', subject: 'Привет, Анна', body_text: expect.stringMatching(/^v1\b/) },
      { to_address: 'second@x.ru', subject: 'Здравствуйте, Анна Смирнова', body_text: expect.stringMatching(/^v2\b/) }
    ]);
  });

  it('reads the worker interval from --interval or WORKER_INTERVAL_MS', () => {
    expect(parseInterval([], undefined)).toBe(200);
    expect(parseInterval([], '500')).toBe(500);
    expect(parseInterval(['--interval', '50'], '500')).toBe(50);
    expect(parseInterval(['--interval=75'], undefined)).toBe(75);
    expect(parseInterval(['--interval', 'fast'], undefined)).toMatch(/whole number/);
    expect(parseInterval(['--interval', '5'], undefined)).toMatch(/from 10/);
    expect(parseInterval(['--verbose'], undefined)).toMatch(/unexpected argument --verbose/);
  });
});
