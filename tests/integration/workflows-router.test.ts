import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TRPCError } from '@trpc/server';
import { createTestApp, type TestApp } from '../support/test-app';
import { appRouter } from '../../src/lib/server/trpc/router';
import { createCallerFactory } from '../../src/lib/server/trpc/init';
import { toUser, usersRepo } from '../../src/lib/server/repositories/users.repo';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';

/** The workflows API as the UI calls it, on the shipped flows and a real database. */
const DAY = 86_400_000;
const system = { id: null, label: 'test' };
let app: TestApp;

beforeEach(async () => {
  app = await createTestApp();
  await app.services.engine.loadWorkflowsDir(path.resolve('workflows'), system);
});
afterEach(() => app.close());

async function callerFor(role: 'admin' | 'marketer' | 'sales') {
  const { id } = await app.makeUser(role);
  const user = toUser((await usersRepo.findById(app.deps.db, id))!);
  return createCallerFactory(appRouter)({ app, user, ip: '127.0.0.1' }).workflows;
}

async function lead(email: string) {
  const r = await app.services.capture.capture({ input: parseLeadInput({ email, name: 'Пётр Иванов' }), source: 'api', actor: system });
  await app.services.engine.runUntilIdle();
  return r.leadId;
}

describe('workflows router', () => {
  it('lists flows with trigger, version and counts, and shows one with its nodes and versions', async () => {
    const api = await callerFor('marketer');
    await lead('a@example.ru');
    const list = await api.list();
    expect(list.map((f) => f.slug).sort()).toEqual(['mql-to-sql-handoff', 're-engagement', 'webinar-nurture', 'welcome-sequence']);
    const welcome = list.find((f) => f.slug === 'welcome-sequence')!;
    expect(welcome).toMatchObject({ status: 'active', version: 1, trigger: { type: 'lead_created' }, counts: { active: 1, exited: 0, goal: 0, failed: 0 } });
    const detail = await api.get({ slug: 'welcome-sequence' });
    expect(detail.definition!.start).toBe('language');
    expect(detail.versions).toEqual([expect.objectContaining({ version: 1, published_by_name: null })]);
    expect(detail.stats.perNode).toEqual([{ node: 'ru_wait_1', count: 1 }]);
    await expect(api.get({ slug: 'nope-nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('pauses a flow (no sends while paused) and resumes where each lead stood', async () => {
    const api = await callerFor('admin');
    await lead('p@example.ru');
    await api.pause({ slug: 'welcome-sequence' });
    expect((await api.list()).find((f) => f.slug === 'welcome-sequence')!.status).toBe('paused');
    app.clock.advance(3 * DAY);
    await app.services.engine.runUntilIdle();
    const mails = async () => (await api.mailbox({ limit: 50 })).filter((m) => m.to_address === 'p@example.ru').map((m) => m.template);
    expect(await mails()).toEqual(['welcome-1-ru']);
    await api.resume({ slug: 'welcome-sequence' });
    app.clock.advance(60_000);
    await app.services.engine.runUntilIdle();
    expect(await mails()).toEqual(['welcome-2-ru', 'welcome-1-ru']);
  });

  it('shows a failed effect with its error and retries it', async () => {
    const api = await callerFor('marketer');
    await app.deps.db.deleteFrom('email_templates').where('slug', '=', 'welcome-1-ru').execute();
    const id = await lead('f@example.ru');
    const [failed] = await api.failedEffects({ slug: 'welcome-sequence' });
    expect(failed).toMatchObject({ kind: 'send_email', node_id: 'ru_email_1', last_error: 'email template "welcome-1-ru" does not exist' });
    expect((await api.get({ slug: 'welcome-sequence' })).failedEffects).toHaveLength(1);
    await app.services.engine.loadWorkflowsDir(path.resolve('workflows'), system); // puts the template back
    expect(await api.retryEffect({ id: failed.id })).toEqual({ requeued: true });
    expect(await api.retryEffect({ id: failed.id })).toEqual({ requeued: false });
    await app.services.engine.runUntilIdle();
    const box = await api.mailbox({ leadId: id, limit: 10 });
    expect(box).toEqual([expect.objectContaining({ template: 'welcome-1-ru', lead_name: 'Пётр Иванов', workflow_slug: 'welcome-sequence', to_address: 'f@example.ru' })]);
    expect(await api.failedEffects({ slug: 'welcome-sequence' })).toEqual([]);
  });

  it('enrolls chosen leads by hand, refusing those the re-entry rule keeps out', async () => {
    const api = await callerFor('marketer');
    const a = await lead('e1@example.ru');
    const b = await lead('e2@example.ru');
    expect(await api.enroll({ slug: 're-engagement', leadIds: [a, b] })).toEqual({ enrolled: 2, refused: 0 });
    expect(await api.enroll({ slug: 're-engagement', leadIds: [a] })).toEqual({ enrolled: 0, refused: 1 });
    expect(await api.enroll({ slug: 'welcome-sequence', leadIds: [a] })).toEqual({ enrolled: 0, refused: 1 });
  });

  it('is closed to sales reps', async () => {
    const api = await callerFor('sales');
    await expect(api.list()).rejects.toBeInstanceOf(TRPCError);
    await expect(api.mailbox()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
