import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { InputError } from '../../src/lib/server/services/deps';
import { workflowSchema, type WorkflowInput } from '../../src/lib/shared/workflow';
import { run as runWorkflowCli } from '../../src/lib/server/cli/workflow.command';

/**
 * The designer's runtime side on the real engine and database with a fake clock: the simulator
 * (nothing stored, nothing sent), publish with impact and node-by-node migration, live counts,
 * and import/export.
 */
const DAY = 86_400_000;
const WORKFLOWS_DIR = path.resolve('workflows');
const system = { id: null, label: 'test' };
let app: TestApp;
const rt = () => app.services.flowRuntime;
const engine = () => app.services.engine;

beforeEach(async () => {
  app = await createTestApp();
  await app.deps.db
    .insertInto('email_templates')
    .values(['d-1', 'd-2', 'd-3', 'd-new'].map((slug, i) => ({ id: `t${i}`, slug, name: slug, subject: `${slug} для {{ lead.first_name }}`, body: 'Здравствуйте, {{ lead.name }} из {{ lead.company }}!', locale: 'ru', updated_at: 0 })))
    .execute();
});
afterEach(() => app.close());

async function lead(email: string, extra: Record<string, unknown> = {}) {
  const r = await app.services.capture.capture({ input: parseLeadInput({ email, name: 'Иван Петров', company: 'Ромашка', ...extra }), source: 'api', actor: system });
  return r.leadId;
}

async function advance(ms: number, step = 6 * 3_600_000) {
  for (let t = 0; t < ms; t += step) {
    app.clock.advance(Math.min(step, ms - t));
    await engine().runUntilIdle();
  }
}

/** A manual drip: email, 3 days, email, wait up to 5 days for a click on it, then email or exit. */
const drip: WorkflowInput = {
  slug: 'drip',
  name: 'Drip',
  trigger: { type: 'manual' },
  start: 'e1',
  nodes: {
    e1: { kind: 'send_email', template: 'd-1', next: 'w1' },
    w1: { kind: 'wait', wait: { type: 'duration', duration: { amount: 3, unit: 'days' } }, next: 'e2' },
    e2: { kind: 'send_email', template: 'd-2', next: 'click' },
    click: { kind: 'wait_until', eventType: 'email_clicked', timeout: { amount: 5, unit: 'days' }, next: 'hot', timeoutNext: 'e3' },
    hot: { kind: 'adjust_score', score: 'engagement', points: 25, reason: 'clicked the drip', next: 'done' },
    e3: { kind: 'send_email', template: 'd-3', next: 'done' },
    done: { kind: 'exit' }
  }
};

async function counts(table: 'workflow_instances' | 'messages' | 'events' | 'mailbox_messages' | 'workflow_outbox' | 'workflow_timers' | 'leads') {
  const r = await app.deps.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('simulator', () => {
  it('runs a drip with a scripted click, renders each email and changes nothing real', async () => {
    const leadId = await lead('ivan@example.ru');
    const before = await Promise.all((['workflow_instances', 'messages', 'events', 'mailbox_messages', 'workflow_outbox', 'workflow_timers', 'leads'] as const).map(counts));
    const leadRow = await app.deps.db.selectFrom('leads').selectAll().where('id', '=', leadId).executeTakeFirstOrThrow();

    const started = performance.now();
    const r = await rt().simulate({ definition: drip, leadId, events: [{ day: 4, type: 'email_clicked', emailNode: 'e2' }] });
    expect(performance.now() - started).toBeLessThan(1000);

    expect(r.steps.map((s) => [s.nodeId, s.day])).toEqual([
      ['e1', 0],
      ['w1', 0],
      ['e2', 3],
      ['click', 3],
      ['hot', 4],
      ['done', 4]
    ]);
    expect(r.emails.map((e) => e.email?.subject)).toEqual(['d-1 для Иван', 'd-2 для Иван']);
    expect(r.emails[0].email?.text).toContain('Здравствуйте, Иван Петров из Ромашка!');
    // The click scores by the workspace's engagement rules, then the flow's own +25.
    const adjusted = r.scores.find((x) => x.reason === 'clicked the drip')!;
    expect(adjusted).toMatchObject({ day: 4, score: 'engagement' });
    expect(adjusted.to - adjusted.from).toBe(25);
    expect(r.scores[0].from).toBe(leadRow.engagement_score);
    expect(r.outcome).toMatchObject({ status: 'exited', node: 'done', day: 4 });
    expect(r.events).toEqual([{ day: 4, type: 'email_clicked', emailNode: 'e2', outcome: 'delivered' }]);

    // Nothing is sent and no real lead changes.
    const after = await Promise.all((['workflow_instances', 'messages', 'events', 'mailbox_messages', 'workflow_outbox', 'workflow_timers', 'leads'] as const).map(counts));
    expect(after).toEqual(before);
    expect(await app.deps.db.selectFrom('leads').selectAll().where('id', '=', leadId).executeTakeFirstOrThrow()).toEqual(leadRow);
  });

  it('a click on an email not sent yet is ignored, and silence takes the timeout path', async () => {
    const r = await rt().simulate({ definition: drip, sample: { name: 'Anna Smirnova', company: 'Romashka' } as never, events: [{ day: 1, type: 'email_clicked', emailNode: 'e2' }] });
    expect(r.events[0]).toMatchObject({ outcome: 'ignored', note: 'email not sent yet' });
    expect(r.steps.map((s) => s.nodeId)).toEqual(['e1', 'w1', 'e2', 'click', 'e3', 'done']);
    expect(r.emails.map((e) => [e.template, e.day])).toEqual([
      ['d-1', 0],
      ['d-2', 3],
      ['d-3', 8]
    ]);
    expect(r.emails[2].email?.subject).toBe('d-3 для Anna');
  });

  it('runs the shipped flows: welcome by language, webinar with a registration, re-engagement reaching its goal', async () => {
    await engine().loadWorkflowsDir(WORKFLOWS_DIR, system);
    const read = (slug: string) => JSON.parse(fs.readFileSync(path.join(WORKFLOWS_DIR, slug, 'workflow.json'), 'utf8'));

    const welcome = await rt().simulate({ definition: read('welcome-sequence'), sample: { name: 'John Smith', country: 'UK' } as never, events: [] });
    expect(welcome.emails.map((e) => [e.template, e.day])).toEqual([
      ['welcome-1-en', 0],
      ['welcome-2-en', 3],
      ['welcome-3-en', 10]
    ]);
    expect(welcome.emails.every((e) => e.email && !e.error)).toBe(true);

    const webinarAt = new Date(app.clock.now() + 10 * DAY).toISOString();
    const webinar = await rt().simulate({ definition: read('webinar-nurture'), sample: { name: 'Олег', attributes: { webinar_at: webinarAt } } as never, events: [{ day: 1, type: 'webinar_registered' }] });
    expect(webinar.emails.map((e) => [e.template, e.day])).toEqual([
      ['webinar-invite-ru', 0],
      ['webinar-reminder-ru', 9],
      ['webinar-follow-up-ru', 11]
    ]);

    // A lead that turns SQL on day 2 meets the flow's goal and leaves.
    const reengage = await rt().simulate({ definition: read('re-engagement'), sample: { name: 'Пётр' } as never, events: [{ day: 2, type: 'stage_changed', properties: { to: 'sql' } }] });
    expect(reengage.emails.map((e) => e.template)).toEqual(['win-back-ru']);
    expect(reengage.outcome).toMatchObject({ status: 'goal', day: 2 });
  });

  it('stops a flow that loops through a wait at the step limit with a clear message', async () => {
    const loop: WorkflowInput = {
      slug: 'loop',
      name: 'Loop',
      trigger: { type: 'manual' },
      start: 'nag',
      nodes: {
        nag: { kind: 'send_email', template: 'd-1', next: 'pause' },
        pause: { kind: 'wait', wait: { type: 'duration', duration: { amount: 1, unit: 'hours' } }, next: 'nag' }
      }
    };
    const r = await rt().simulate({ definition: loop, sample: {} as never, events: [] });
    expect(r.outcome.status).toBe('step_limit');
    expect(r.outcome.message).toMatch(/stopped after 500 steps/);
  });

  it('refuses a definition with problems, by path', async () => {
    const broken = { ...drip, nodes: { ...drip.nodes, w1: { ...drip.nodes.w1, next: 'nowhere' } } };
    await expect(rt().simulate({ definition: broken, sample: {} as never, events: [] })).rejects.toMatchObject({ issues: [{ field: 'nodes.w1' }] });
  });
});

describe('publish with impact', () => {
  async function enrolled(n: number) {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(await lead(`lead${i}@example.ru`));
    await engine().enroll(system, 'drip', ids);
    await engine().runUntilIdle();
    return ids;
  }

  const v2: WorkflowInput = {
    ...drip,
    nodes: {
      // e1 unchanged; w1 now waits 5 days; the click wait is removed, e2 goes to a new email.
      e1: drip.nodes.e1,
      w1: { kind: 'wait', wait: { type: 'duration', duration: { amount: 5, unit: 'days' } }, next: 'e2' },
      e2: { kind: 'send_email', template: 'd-2', next: 'pause' },
      pause: { kind: 'wait', wait: { type: 'duration', duration: { amount: 1, unit: 'days' } }, next: 'e4' },
      e4: { kind: 'send_email', template: 'd-new', next: 'done' },
      done: { kind: 'exit' }
    }
  };

  it('shows the diff and how many leads sit in each changed or removed node', async () => {
    await engine().publish(system, drip);
    await enrolled(3); // in w1
    app.clock.advance(3 * DAY + 1);
    await engine().runUntilIdle(); // all three now wait in `click`
    await enrolled(0);
    const more = [await lead('late@example.ru')];
    await engine().enroll(system, 'drip', more);
    await engine().runUntilIdle(); // one in w1

    const r = await rt().publish.impact('drip', v2);
    if (!r.ok) throw new Error('impact refused');
    expect(r.liveVersion).toBe(1);
    expect(r.diff).toMatchObject({ added: ['pause', 'e4'], removed: ['click', 'hot', 'e3'], changed: ['w1', 'e2'] });
    expect(r.affected).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'w1', change: 'changed', count: 1 }),
        expect.objectContaining({ id: 'click', change: 'removed', count: 3 }),
        expect.objectContaining({ id: 'e3', change: 'removed', count: 0 })
      ])
    );
    expect(r.onLive).toBe(4);
    expect(r.suggested.click).toBe('done');
  });

  it('refuses to publish a definition with problems and stores nothing', async () => {
    await engine().publish(system, drip);
    const broken = { ...v2, nodes: { ...v2.nodes, e4: { kind: 'send_email', template: 'no-such-template', next: 'done' } } };
    const r = await rt().publish.impact('drip', broken);
    expect(r.ok).toBe(false);
    await expect(rt().publish.publish(system, 'drip', broken, { mode: 'keep' })).rejects.toBeInstanceOf(InputError);
    expect(await app.deps.db.selectFrom('workflow_versions').select('version').execute()).toEqual([{ version: 1 }]);
  });

  it('keep: running leads finish on the old version', async () => {
    await engine().publish(system, drip);
    const [id] = await enrolled(1);
    const r = await rt().publish.publish(system, 'drip', v2, { mode: 'keep' });
    expect(r).toMatchObject({ version: 2, moved: 0 });
    await advance(10 * DAY);
    const mail = await app.deps.db.selectFrom('mailbox_messages').select('template').where('lead_id', '=', id).orderBy('created_at').execute();
    expect(mail.map((m) => m.template)).toEqual(['d-1', 'd-2', 'd-3']);
  });

  it('migrate: leads move node by node, keep the time they waited, and go on with the new version', async () => {
    await engine().publish(system, drip);
    const [waiting] = await enrolled(1); // in w1 since t0, due t0 + 3 days
    app.clock.advance(2 * DAY);
    await engine().runUntilIdle();
    const clicker = await lead('clicker@example.ru');
    await engine().enroll(system, 'drip', [clicker]);
    app.clock.advance(1 * DAY + 1);
    await engine().runUntilIdle(); // `waiting` got e2 and sits in `click`; `clicker` still in w1 (entered at day 2)
    const t = app.clock.now();
    const before = await app.deps.db.selectFrom('workflow_instances').select(['lead_id', 'current_node']).execute();
    expect(Object.fromEntries(before.map((b) => [b.lead_id, b.current_node]))).toEqual({ [waiting]: 'click', [clicker]: 'w1' });

    const r = await rt().publish.publish(system, 'drip', v2, { mode: 'migrate', mapping: { click: 'pause' } });
    expect(r).toMatchObject({ version: 2, moved: 2, kept: 0, failed: 0 });

    const rows = await app.deps.db.selectFrom('workflow_instances').innerJoin('workflow_versions', 'workflow_versions.id', 'workflow_instances.version_id').select(['lead_id', 'current_node', 'workflow_versions.version', 'awaiting']).execute();
    expect(rows.every((x) => x.version === 2)).toBe(true);
    const timers = await app.deps.db.selectFrom('workflow_timers').innerJoin('workflow_instances', 'workflow_instances.id', 'workflow_timers.instance_id').select(['lead_id', 'due_at', 'timer_key']).execute();
    const dueOf = (l: string) => timers.find((x) => x.lead_id === l)!.due_at;
    // The clicker entered w1 at day 2 and now waits 5 days from then, not from now.
    expect(dueOf(clicker)).toBe(Date.UTC(2026, 0, 12, 9) + 2 * DAY + 5 * DAY);
    // The removed click wait mapped to the new one-day pause: a fresh wait from the move.
    expect(dueOf(waiting)).toBe(t + DAY);

    // The move is on each lead's timeline.
    const moved = await app.deps.db.selectFrom('events').select(['lead_id', 'properties']).where('type', '=', 'workflow_migrated').execute();
    expect(moved.map((m) => JSON.parse(m.properties)).find((p) => p.fromNode === 'click')).toMatchObject({ fromVersion: 1, toVersion: 2, toNode: 'pause' });
    expect(moved).toHaveLength(2);

    // They go on with the new version: the new email, then exit.
    await advance(8 * DAY);
    const mail = async (l: string) => (await app.deps.db.selectFrom('mailbox_messages').select('template').where('lead_id', '=', l).orderBy('created_at').execute()).map((m) => m.template);
    expect(await mail(waiting)).toEqual(['d-1', 'd-2', 'd-new']);
    expect(await mail(clicker)).toEqual(['d-1', 'd-2', 'd-new']);
    const done = await app.deps.db.selectFrom('workflow_instances').select('status').execute();
    expect(done.map((d) => d.status)).toEqual(['exited', 'exited']);
  });

  it('a lead in a removed node with no target stays on the old version', async () => {
    await engine().publish(system, drip);
    await enrolled(1);
    app.clock.advance(3 * DAY + 1);
    await engine().runUntilIdle(); // in `click`, which v2 removes
    const r = await rt().publish.publish(system, 'drip', v2, { mode: 'migrate', mapping: {} });
    expect(r).toMatchObject({ moved: 0, kept: 1 });
  });
});

describe('live counts', () => {
  it('counts leads in each node now and passed, and each email step', async () => {
    await engine().publish(system, drip);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await lead(`l${i}@example.ru`));
    await engine().enroll(system, 'drip', ids);
    await engine().runUntilIdle();
    let c = await rt().live.counts('drip');
    expect(c.perNode.w1).toMatchObject({ now: 3, passed: 0 });
    expect(c.perNode.e1).toMatchObject({ now: 0, passed: 3, email: { sent: 3, delivered: 3, opens: 0, clicks: 0, unsubscribes: 0, bounces: 0 } });

    app.clock.advance(3 * DAY + 1);
    await engine().runUntilIdle();
    c = await rt().live.counts('drip');
    expect(c.perNode.w1).toMatchObject({ now: 0, passed: 3 });
    expect(c.perNode.click.now).toBe(3);
    expect(c.totals.active).toBe(3);

    const inClick = await rt().live.leads('drip', 'click', 'now');
    expect(inClick.map((l) => l.id).sort()).toEqual([...ids].sort());
    const passedW1 = await rt().live.leads('drip', 'w1', 'passed');
    expect(passedW1).toHaveLength(3);
    const sentE2 = await rt().live.leads('drip', 'e2', 'sent');
    expect(sentE2).toHaveLength(3);
  });
});

describe('import and export', () => {
  it('refuses a broken file with every problem by path and changes nothing', async () => {
    const before = await counts('email_templates' as never);
    const file = {
      workflow: { ...drip, start: 'e1', nodes: { ...drip.nodes, w1: { kind: 'wait', wait: { type: 'duration', duration: { amount: -1, unit: 'days' } }, next: 'e2' }, e1: { kind: 'send_email', template: 'missing-one', next: 'w1' } } },
      templates: [{ slug: 'fine-one', name: 'Fine', subject: 'Hi', body: 'x' }, { slug: 'Bad Slug', name: 'x', subject: 'y {% if %}' }]
    };
    const err = await rt().files.check(file).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    const fields = (err as InputError).issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['workflow.nodes.w1.wait.duration.amount', 'templates.1.slug']));
    expect(await counts('email_templates' as never)).toBe(before);

    const missing = await rt().files.check({ workflow: { ...drip, nodes: { ...drip.nodes, e1: { kind: 'send_email', template: 'missing-one', next: 'w1' } } }, templates: [] }).catch((e) => e);
    expect((missing as InputError).issues).toEqual([{ field: 'workflow.nodes.e1.template', message: expect.stringContaining('missing-one') }]);
  });

  it('round-trips a flow through the export folder and through the JSON bundle', async () => {
    await engine().loadWorkflowsDir(WORKFLOWS_DIR, system);
    const { loadTemplateFiles } = await import('../../src/lib/server/services/templates.service');
    await loadTemplateFiles(app.deps, WORKFLOWS_DIR);
    const bundle = await rt().files.bundle('welcome-sequence');
    expect(bundle.templates.map((t) => t.slug)).toEqual(['welcome-1-en', 'welcome-1-ru', 'welcome-2-en', 'welcome-2-ru', 'welcome-3-en', 'welcome-3-ru']);
    expect(bundle.templates[0].html).toContain('<h1');

    // The CLI writes the folder the shipped flows use.
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'flow-export-'));
    const code = await runWorkflowCli(app, ['export', 'welcome-sequence', '--out', out]);
    expect(code).toBe(0);
    const dir = path.join(out, 'welcome-sequence');
    expect(workflowSchema.parse(JSON.parse(fs.readFileSync(path.join(dir, 'workflow.json'), 'utf8')))).toEqual(bundle.workflow);
    expect(fs.readdirSync(path.join(dir, 'emails')).sort()).toContain('welcome-1-en.html');

    // A fresh workspace loads the folder back and gets the same flow and templates.
    const other = await createTestApp();
    try {
      expect(await other.services.engine.loadWorkflowsDir(out, system)).toEqual(['welcome-sequence']);
      await loadTemplateFiles(other.deps, out);
      const again = await other.services.flowRuntime.files.bundle('welcome-sequence');
      expect(again.workflow).toEqual(bundle.workflow);
      expect(again.templates.map(({ slug, subject, body, html, preheader, kind, topic }) => ({ slug, subject, body, html, preheader, kind, topic }))).toEqual(
        bundle.templates.map(({ slug, subject, body, html, preheader, kind, topic }) => ({ slug, subject, body, html, preheader, kind, topic }))
      );

      // And the JSON bundle checks clean in a third, empty workspace, bringing its templates.
      const third = await createTestApp();
      try {
        const checked = await third.services.flowRuntime.files.check(JSON.parse(JSON.stringify(bundle)));
        expect(checked.workflow).toEqual(bundle.workflow);
        expect(checked.templates).toHaveLength(6);
      } finally {
        await third.close();
      }
    } finally {
      await other.close();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('drafts from versions and files', () => {
  it('restores any published version as the draft, and imports a file as a draft of a new flow', async () => {
    const { actor } = await app.makeUser('marketer');
    await engine().publish(actor, drip);
    await engine().publish(actor, { ...drip, name: 'Drip v2', nodes: { ...drip.nodes, e3: { kind: 'send_email', template: 'd-new', next: 'done' } } });
    const restored = await rt().restoreVersion(actor, 'drip', 1);
    const { createWorkflowDrafts } = await import('../../src/lib/server/services/workflow-drafts.service');
    const drafts = createWorkflowDrafts(app.deps);
    const loaded = await drafts.load('drip');
    expect(loaded.draft.revision).toBe(restored.revision);
    expect(loaded.draft.definition).toMatchObject({ name: 'Drip', nodes: { e3: { template: 'd-3' } } });
    // Still version 2 live: a restore only writes the draft.
    expect(loaded.workflow.liveVersion).toBe(2);

    const bundle = await rt().files.bundle('drip');
    const file = { ...bundle, workflow: { ...bundle.workflow, slug: 'drip-copy', name: 'Drip copy' }, templates: [...bundle.templates, { slug: 'brand-new', name: 'New', subject: 'Hello {{ lead.first_name }}', body: 'Body' }] };
    const r = await rt().importFlow(actor, file);
    expect(r).toMatchObject({ slug: 'drip-copy', created: true, templatesAdded: ['brand-new'] });
    expect(r.templatesKept).toEqual(expect.arrayContaining(['d-1', 'd-2']));
    const copy = await drafts.load('drip-copy');
    expect(copy.draft.definition).toMatchObject({ slug: 'drip-copy', name: 'Drip copy', start: 'e1' });
    expect(copy.workflow.liveVersion).toBeNull();
  });
});
