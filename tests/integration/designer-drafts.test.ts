import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCError } from '@trpc/server';
import { createTestApp, type TestApp } from '../support/test-app';
import { appRouter } from '../../src/lib/server/trpc/router';
import { createCallerFactory } from '../../src/lib/server/trpc/init';
import { toUser, usersRepo } from '../../src/lib/server/repositories/users.repo';
import { templatesRepo } from '../../src/lib/server/repositories/templates.repo';
import type { WorkflowInput } from '../../src/lib/shared/workflow';

const createCaller = createCallerFactory(appRouter);
let app: TestApp;
let anna: ReturnType<typeof createCaller>;
let boris: ReturnType<typeof createCaller>;

async function callerAs(role: 'admin' | 'marketer' | 'sales', email: string) {
  const { id } = await app.makeUser(role, email);
  return createCaller({ app, user: toUser((await usersRepo.findById(app.deps.db, id))!), ip: '127.0.0.1' });
}

const template = (slug: string, body: string) => ({ id: slug, slug, name: `T ${slug}`, subject: 'Hi {{ lead.first_name }}', body, locale: 'en', updated_at: 0, preheader: null, html: null, kind: 'marketing', topic: null });

const drip = (nodes: WorkflowInput['nodes']): WorkflowInput => ({ slug: 'drip', name: 'Drip', trigger: { type: 'lead_created' }, reentry: { mode: 'never' }, goals: [], start: 'e1', nodes });
const sound = drip({
  e1: { kind: 'send_email', template: 'hello', next: 'click' },
  click: { kind: 'wait_until', eventType: 'email_clicked', timeout: { amount: 3, unit: 'days' }, next: 'done', timeoutNext: 'e2' },
  e2: { kind: 'send_email', template: 'hello', next: 'done' },
  done: { kind: 'exit' }
});

beforeAll(async () => {
  app = await createTestApp();
  anna = await callerAs('marketer', 'anna@example.com');
  boris = await callerAs('admin', 'boris@example.com');
  await templatesRepo.insert(app.deps.db, template('hello', 'Hello!'));
  await templatesRepo.insert(app.deps.db, template('broken', 'Hello {% if %}'));
});
afterAll(() => app.close());

const code = (p: Promise<unknown>) => p.then(() => 'ok', (e) => (e instanceof TRPCError ? e.code : String(e)));

describe('designer drafts', () => {
  it('create gives an empty flow with a first draft; the address is unique', async () => {
    expect(await anna.designer.create({ name: 'Drip', slug: 'drip', trigger: { type: 'lead_created' } })).toEqual({ slug: 'drip', revision: 1 });
    const loaded = await anna.designer.load({ slug: 'drip' });
    expect(loaded.workflow).toMatchObject({ slug: 'drip', name: 'Drip', liveVersion: null });
    expect(loaded.draft).toMatchObject({ revision: 1, updatedBy: expect.any(String) });
    expect(loaded.draft.definition).toMatchObject({ slug: 'drip', nodes: {} });
    expect(loaded.templates.map((t) => t.name)).toEqual(['broken', 'hello']);
    expect(await code(anna.designer.create({ name: 'Again', slug: 'drip', trigger: { type: 'manual' } }))).toBe('CONFLICT');
    expect(await code(anna.designer.create({ name: 'Bad', slug: 'Bad Slug!', trigger: { type: 'manual' } }))).toBe('BAD_REQUEST');
  });

  it('the second save from a stale revision is refused, naming who saved and when', async () => {
    const savedAt = new Date(app.clock.now()).toISOString();
    const first = await anna.designer.saveDraft({ slug: 'drip', definition: sound, baseRevision: 1 });
    expect(first.revision).toBe(2);
    app.clock.advance(60_000);
    // Boris opened revision 1 too; his autosave must not overwrite Anna's.
    const err = await boris.designer.saveDraft({ slug: 'drip', definition: drip({}), baseRevision: 1 }).catch((e: TRPCError) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('CONFLICT');
    // makeUser names its users after their role.
    expect((err as TRPCError).message).toContain('Test marketer');
    expect((err as TRPCError).message).toContain(savedAt);
    expect((await anna.designer.load({ slug: 'drip' })).draft.definition).toEqual(sound);
    // "Keep mine": he reloads the revision and saves on top of it.
    expect((await boris.designer.saveDraft({ slug: 'drip', definition: sound, baseRevision: 2 })).revision).toBe(3);
    const after = await anna.designer.load({ slug: 'drip' });
    expect(after.draft.revision).toBe(3);
  });

  it('a draft for another flow, or for a flow that does not exist, is refused', async () => {
    expect(await code(anna.designer.saveDraft({ slug: 'drip', definition: { ...sound, slug: 'other' }, baseRevision: 3 }))).toBe('BAD_REQUEST');
    expect(await code(anna.designer.saveDraft({ slug: 'nope', definition: { ...sound, slug: 'nope' }, baseRevision: 0 }))).toBe('NOT_FOUND');
  });

  it('check: real template compile results and paths', async () => {
    const ok = await anna.designer.check({ slug: 'drip', definition: sound });
    expect(ok.problems).toEqual([]);
    expect(ok.paths.paths).toHaveLength(2);
    const bad = await anna.designer.check({ slug: 'drip', definition: drip({ ...sound.nodes, e2: { kind: 'send_email', template: 'broken', next: 'done' }, e1: { kind: 'send_email', template: 'gone', next: 'click' } }) });
    expect(bad.problems.map((p) => `${p.code}@${p.nodeId}`).sort()).toEqual(['broken_template@e2', 'missing_template@e1']);
    expect(bad.paths.paths).toEqual([]);
  });

  it('a published flow without a draft loads its live definition at revision 0', async () => {
    await app.services.engine.publish({ id: null, label: 'test' }, { ...sound, slug: 'live-one' });
    const loaded = await anna.designer.load({ slug: 'live-one' });
    expect(loaded.draft.revision).toBe(0);
    expect(loaded.workflow.liveVersion).toBe(1);
    expect(loaded.draft.definition).toMatchObject({ slug: 'live-one', start: 'e1' });
    expect((await anna.designer.saveDraft({ slug: 'live-one', definition: { ...sound, slug: 'live-one' }, baseRevision: 0 })).revision).toBe(1);
    expect(await code(boris.designer.saveDraft({ slug: 'live-one', definition: { ...sound, slug: 'live-one' }, baseRevision: 0 }))).toBe('CONFLICT');
  });

  it('sales may not design flows', async () => {
    const sam = await callerAs('sales', 'sam@example.com');
    expect(await code(sam.designer.load({ slug: 'drip' }))).toBe('FORBIDDEN');
  });
});
