import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { compileWorkflow, CONTINUE_EVENT, delayName, EFFECT_ACTION, ENTER_ACTION, ENROLL_STATE, GOAL_STATE_PREFIX, INLINE_EFFECT_KINDS } from '../../src/lib/server/engine/compiler';
import { ENROLL_EVENT, FACTS_CHANGED_EVENT, type LeadFacts } from '../../src/lib/server/engine/facts';
import { unreachableNodes } from '../../src/lib/server/engine/graph-check';
import { nextOf, workflowSchema, type Workflow } from '../../src/lib/shared/workflow';

/**
 * The flows we ship in `workflows/`, tested twice: walked end to end on the real engine and
 * database with a fake clock, and proved by path analysis (every node reachable, every path
 * ends in an exit or a goal, and the emails each path sends).
 */
const DAY = 86_400_000;
const WORKFLOWS_DIR = path.resolve('workflows');
const system = { id: null, label: 'test' };
const SHIPPED = ['mql-to-sql-handoff', 're-engagement', 'webinar-nurture', 'welcome-sequence'];

function readFlow(slug: string): Workflow {
  return workflowSchema.parse(JSON.parse(fs.readFileSync(path.join(WORKFLOWS_DIR, slug, 'workflow.json'), 'utf8')));
}

describe('example flows on the engine', () => {
  let app: TestApp;
  const engine = () => app.services.engine;

  beforeEach(async () => {
    app = await createTestApp();
    expect((await engine().loadWorkflowsDir(WORKFLOWS_DIR, system)).sort()).toEqual(SHIPPED);
  });
  afterEach(() => app.close());

  async function lead(email: string, extra: Record<string, unknown> = {}) {
    const r = await app.services.capture.capture({ input: parseLeadInput({ email, name: 'Анна Смирнова', ...extra }), source: 'api', actor: system });
    await engine().runUntilIdle();
    return r.leadId;
  }
  async function event(email: string, type: string, properties: Record<string, unknown> = {}, occurredAt?: number) {
    await app.services.events.ingest(system, { email, type, properties, ...(occurredAt ? { occurredAt } : {}) });
    await engine().runUntilIdle();
  }
  async function advance(ms: number, step = 6 * 3_600_000) {
    for (let t = 0; t < ms; t += step) {
      app.clock.advance(Math.min(step, ms - t));
      await engine().runUntilIdle();
    }
  }
  const mail = (email: string) => app.deps.db.selectFrom('mailbox_messages').selectAll().where('to_address', '=', email).orderBy('created_at').execute();
  const templates = async (email: string) => (await mail(email)).map((m) => m.template);
  async function instance(leadId: string, slug: string) {
    return app.deps.db
      .selectFrom('workflow_instances')
      .innerJoin('workflows', 'workflows.id', 'workflow_instances.workflow_id')
      .select(['workflow_instances.status', 'workflow_instances.current_node'])
      .where('workflows.slug', '=', slug)
      .where('lead_id', '=', leadId)
      .executeTakeFirst();
  }

  it('publishes every shipped flow with its Russian and English templates, once', async () => {
    const flows = await engine().list();
    expect(flows.map((f) => f.slug).sort()).toEqual(SHIPPED);
    const tpl = await app.deps.db.selectFrom('email_templates').select(['slug', 'locale']).execute();
    expect(tpl.filter((t) => t.slug.endsWith('-ru')).every((t) => t.locale === 'ru')).toBe(true);
    expect(tpl.filter((t) => t.slug.endsWith('-en')).every((t) => t.locale === 'en')).toBe(true);
    // Every template a flow names exists.
    for (const slug of SHIPPED)
      for (const n of Object.values(readFlow(slug).nodes)) if (n.kind === 'send_email') expect(tpl.map((t) => t.slug)).toContain(n.template);
    // Loading again (a restart) publishes nothing new.
    expect(await engine().loadWorkflowsDir(WORKFLOWS_DIR, system)).toEqual([]);
  });

  it('welcome sequence: three Russian emails over ten days, then exits', async () => {
    const id = await lead('anna@example.ru');
    const [first] = await mail('anna@example.ru');
    expect(first).toMatchObject({ template: 'welcome-1-ru', subject: 'Анна, добро пожаловать в Nurture' });
    expect(first.body_text).toContain('Здравствуйте, Анна!');
    await advance(3 * DAY);
    expect(await templates('anna@example.ru')).toEqual(['welcome-1-ru', 'welcome-2-ru']);
    await advance(7 * DAY);
    const all = await mail('anna@example.ru');
    expect(all.map((m) => m.template)).toEqual(['welcome-1-ru', 'welcome-2-ru', 'welcome-3-ru']);
    expect(all[2].created_at - all[0].created_at).toBe(10 * DAY);
    expect(await instance(id, 'welcome-sequence')).toEqual({ status: 'exited', current_node: 'done' });
  });

  it('welcome sequence: English by locale, and the MQL goal stops it mid-wait', async () => {
    const id = await lead('john@example.com', { name: 'John Smith', company: 'Acme', attributes: { locale: 'en' } });
    expect((await mail('john@example.com'))[0]).toMatchObject({ template: 'welcome-1-en', subject: 'Welcome to Nurture, John' });
    await advance(3 * DAY);
    expect((await mail('john@example.com'))[1].subject).toBe('How teams like Acme run their leads in Nurture');
    const { actor } = await app.makeUser('marketer');
    await app.services.leads.update(actor, id, { stage: 'mql' });
    await engine().runUntilIdle();
    expect(await instance(id, 'welcome-sequence')).toEqual({ status: 'goal', current_node: `${GOAL_STATE_PREFIX}became_mql` });
    await advance(10 * DAY, DAY);
    expect(await templates('john@example.com')).toEqual(['welcome-1-en', 'welcome-2-en']);
    // Re-entry is "never": a new capture of the same lead does not start it again.
    await lead('john@example.com');
    // (Becoming MQL also started the hand-off flow: count the welcome sequence's instances only.)
    const welcome = (await engine().list()).find((f) => f.slug === 'welcome-sequence')!;
    expect((await app.deps.db.selectFrom('workflow_instances').select('id').where('lead_id', '=', id).where('workflow_id', '=', welcome.id).execute()).length).toBe(1);
  });

  it('webinar nurture: registered lead gets a reminder the day before and a follow-up; silent lead one nudge', async () => {
    const webinarAt = app.clock.now() + 10 * DAY;
    const attributes = { webinar_at: new Date(webinarAt).toISOString(), webinar_title: 'Скоринг без магии' };
    const yes = await lead('yes@example.ru', { attributes });
    const no = await lead('no@example.ru', { attributes });
    for (const e of ['yes@example.ru', 'no@example.ru']) await event(e, 'webinar_invited', { webinar: 'scoring' });
    expect((await mail('yes@example.ru')).map((m) => m.template)).toEqual(['welcome-1-ru', 'webinar-invite-ru']);
    expect((await mail('yes@example.ru'))[1].subject).toBe('Приглашаем на вебинар «Скоринг без магии»');

    await advance(DAY);
    await event('yes@example.ru', 'webinar_registered', { webinar: 'scoring' });
    expect(await instance(yes, 'webinar-nurture')).toMatchObject({ status: 'active', current_node: 'ru_day_before' });
    await advance(2 * DAY + 1);
    // Three days without registering: the nudge, then out.
    expect((await templates('no@example.ru')).filter((t) => t?.startsWith('webinar'))).toEqual(['webinar-invite-ru', 'webinar-nudge-ru']);
    expect(await instance(no, 'webinar-nurture')).toEqual({ status: 'exited', current_node: 'no_registration_exit' });

    await advance(webinarAt + 2 * DAY - app.clock.now(), 3_600_000);
    const got = (await mail('yes@example.ru')).filter((m) => m.template?.startsWith('webinar'));
    expect(got.map((m) => m.template)).toEqual(['webinar-invite-ru', 'webinar-reminder-ru', 'webinar-follow-up-ru']);
    // Sent at the first worker round after the exact due time (the test clock moves by the hour).
    expect(got[1].created_at - (webinarAt - DAY)).toBeGreaterThanOrEqual(0);
    expect(got[1].created_at - (webinarAt - DAY)).toBeLessThan(3_600_000);
    expect(got[2].created_at - (webinarAt + DAY)).toBeGreaterThanOrEqual(0);
    expect(got[2].created_at - (webinarAt + DAY)).toBeLessThan(3_600_000);
    expect(await instance(yes, 'webinar-nurture')).toEqual({ status: 'exited', current_node: 'attended_exit' });
  });

  it('re-engagement: skips engaged leads, wins back a click with +10, recycles the silent', async () => {
    const clicker = await lead('click@example.ru');
    const silent = await lead('silent@example.com', { attributes: { locale: 'en' } });
    const engaged = await lead('engaged@example.ru');
    const recent = await lead('recent@example.ru');
    await app.deps.db.updateTable('leads').set({ engagement_score: 55 }).where('id', '=', engaged).execute();
    await event('recent@example.ru', 'email_clicked', { url: 'https://example.ru' }, app.clock.now() - 30 * DAY);

    for (const e of ['click@example.ru', 'silent@example.com', 'engaged@example.ru', 'recent@example.ru']) await event(e, 'lead_inactive');
    expect(await instance(engaged, 're-engagement')).toEqual({ status: 'exited', current_node: 'still_active' });
    expect(await instance(recent, 're-engagement')).toEqual({ status: 'exited', current_node: 'still_active' });
    expect(await templates('engaged@example.ru')).not.toContain('win-back-ru');
    expect(await templates('click@example.ru')).toContain('win-back-ru');
    expect(await templates('silent@example.com')).toContain('win-back-en');

    await advance(2 * DAY);
    await event('click@example.ru', 'email_clicked', { url: 'https://nurture.example/new' });
    expect(await instance(clicker, 're-engagement')).toEqual({ status: 'exited', current_node: 'won_back' });
    const got = (await app.services.leads.get(clicker)) as { lead: { engagementScore: number } };
    // 10 from the scoring rule for a human click, 10 from the flow's win-back bonus.
    expect(got.lead.engagementScore).toBe(20);

    await advance(5 * DAY + 1);
    expect(await instance(silent, 're-engagement')).toEqual({ status: 'exited', current_node: 'recycled_exit' });
    expect(((await app.services.leads.get(silent)) as { lead: { stage: string } }).lead.stage).toBe('recycled');
    expect(((await app.services.leads.get(clicker)) as { lead: { stage: string } }).lead.stage).not.toBe('recycled');
  });
});

// ---- Path analysis ----------------------------------------------------------------------------

const NOW = Date.UTC(2026, 2, 2, 9);
const INPUT = { instanceId: 'i-1', leadId: 'l-1', workflowId: 'w-1', versionId: 'v-1' };

function facts(over: Partial<LeadFacts> & { fields?: Record<string, unknown> } = {}): LeadFacts {
  return { id: 'l-1', stage: 'lead', fit: 0, engagement: 0, events: [], ...over, fields: { email: 'x@example.ru', ...over.fields } };
}

/** Sample leads per flow: each traversal follows one lead, so a path is one lead's possible story. */
const SAMPLES: Record<string, Record<string, LeadFacts>> = {
  'mql-to-sql-handoff': { ru: facts({ stage: 'mql' }), en: facts({ stage: 'mql', fields: { 'attr:locale': 'en' } }) },
  'welcome-sequence': { ru: facts(), en: facts({ fields: { 'attr:locale': 'en' } }) },
  'webinar-nurture': {
    'ru+date': facts({ fields: { 'attr:webinar_at': new Date(NOW + 10 * DAY).toISOString() } }),
    'ru-date': facts(),
    'en+date': facts({ fields: { country: 'United Kingdom', 'attr:webinar_at': new Date(NOW + 10 * DAY).toISOString() } }),
    'en-date': facts({ fields: { country: 'USA' } })
  },
  're-engagement': {
    'ru cold': facts(),
    'en cold': facts({ fields: { 'attr:locale': 'en' } }),
    engaged: facts({ engagement: 40 }),
    'clicked recently': facts({ events: [{ type: 'email_clicked', at: NOW - 59 * DAY, properties: {} }] })
  }
};

/** The events a lead's story can bring in each resting state: timers, awaited events, fresh facts. */
function eventsFor(wf: Workflow, lead: LeadFacts) {
  const goalLead = { ...lead, stage: 'customer' };
  return (s: AnyMachineSnapshot) => {
    const id = String(s.value);
    if (s.status === 'done') return [];
    if (id === ENROLL_STATE) return [{ type: ENROLL_EVENT, now: NOW, lead }];
    const node = wf.nodes[id];
    const out: Record<string, unknown>[] = [];
    if (node.kind === 'wait' || node.kind === 'wait_until') out.push({ type: `xstate.after.${delayName(id)}.wf.${id}`, now: NOW, lead });
    if (node.kind === 'wait_until') out.push({ type: node.eventType, now: NOW, lead, properties: node.filter ?? {} });
    if (INLINE_EFFECT_KINDS.has(node.kind)) out.push({ type: CONTINUE_EVENT, now: NOW, lead });
    if (wf.goals.length) out.push({ type: FACTS_CHANGED_EVENT, now: NOW, lead: goalLead });
    return out as never[];
  };
}

/** Replays a path's events with XState's pure transition(), collecting entered nodes and emails. */
function replay(machine: AnyStateMachine, events: { type: string }[]) {
  let [s] = initialTransition(machine, INPUT);
  const nodes: string[] = [];
  const emails: string[] = [];
  for (const e of events) {
    const [next, actions] = transition(machine, s, e as never);
    for (const a of actions as { type: string; params?: Record<string, unknown> }[]) {
      if (a.type === ENTER_ACTION) nodes.push(String(a.params!.nodeId));
      if (a.type === EFFECT_ACTION && a.params!.kind === 'send_email') emails.push(String(a.params!.template));
    }
    s = next;
  }
  return { nodes, emails, end: String(s.value), status: s.status };
}

/** Every simple path through the JSON graph itself, start to a node with no way out. */
function graphPaths(wf: Workflow): string[][] {
  const out: string[][] = [];
  const walk = (id: string, trail: string[]) => {
    if (trail.includes(id)) throw new Error(`cycle at ${id}`);
    const next = nextOf(wf.nodes[id]);
    if (!next.length) out.push([...trail, id]);
    for (const n of new Set(next)) walk(n, [...trail, id]);
  };
  walk(wf.start, []);
  return out;
}

const endsWell = (wf: Workflow, node: string) => node.startsWith(GOAL_STATE_PREFIX) || ['exit', 'goal'].includes(wf.nodes[node]?.kind);

/** The emails each lead story can receive, per sample lead, as "a > b > c" lines. */
const EXPECTED_EMAILS: Record<string, Record<string, string[]>> = {
  // Accepted (goal) or never returned: nothing; rejected or recycled: one nurture email a week later.
  'mql-to-sql-handoff': { ru: ['', 'handoff-recycled-ru'], en: ['', 'handoff-recycled-en'] },
  'welcome-sequence': {
    ru: ['welcome-1-ru', 'welcome-1-ru > welcome-2-ru', 'welcome-1-ru > welcome-2-ru > welcome-3-ru'],
    en: ['welcome-1-en', 'welcome-1-en > welcome-2-en', 'welcome-1-en > welcome-2-en > welcome-3-en']
  },
  'webinar-nurture': {
    'ru+date': ['webinar-invite-ru > webinar-nudge-ru', 'webinar-invite-ru > webinar-reminder-ru > webinar-follow-up-ru'],
    'ru-date': ['webinar-invite-ru > webinar-follow-up-ru', 'webinar-invite-ru > webinar-nudge-ru'],
    'en+date': ['webinar-invite-en > webinar-nudge-en', 'webinar-invite-en > webinar-reminder-en > webinar-follow-up-en'],
    'en-date': ['webinar-invite-en > webinar-follow-up-en', 'webinar-invite-en > webinar-nudge-en']
  },
  're-engagement': {
    'ru cold': ['win-back-ru'],
    'en cold': ['win-back-en'],
    engaged: [''],
    'clicked recently': ['']
  }
};

describe.each(SHIPPED)('path analysis of %s', (slug) => {
  const wf = readFlow(slug);
  const machine = compileWorkflow(wf);

  it('parses, and every path through the graph ends in an exit or a goal', async () => {
    const app = await createTestApp();
    try {
      expect(() => app.services.engine.parseDefinition(JSON.parse(fs.readFileSync(path.join(WORKFLOWS_DIR, slug, 'workflow.json'), 'utf8')))).not.toThrow();
    } finally {
      await app.close();
    }
    expect(unreachableNodes(wf)).toEqual([]);
    const paths = graphPaths(wf);
    expect(paths.length).toBeGreaterThan(1);
    for (const p of paths) expect(['exit', 'goal']).toContain(wf.nodes[p.at(-1)!].kind);
    expect(new Set(paths.flat())).toEqual(new Set(Object.keys(wf.nodes)));
    // Readable on the canvas: every node has a label and a position.
    for (const [id, n] of Object.entries(wf.nodes)) expect({ id, label: !!n.label, position: !!n.position }).toEqual({ id, label: true, position: true });
  });

  it('on the compiled machine: every node and goal is reachable, every story ends, and these are the emails', () => {
    const entered = new Set<string>();
    for (const [name, lead] of Object.entries(SAMPLES[slug])) {
      const events = eventsFor(wf, lead);
      // Shortest paths reach every resting state this lead can be in; from each one an end is reachable.
      const resting = getShortestPaths(machine, { input: INPUT, events });
      for (const r of resting) {
        if (r.state.status === 'done') continue;
        const onward = getShortestPaths(machine, { input: INPUT, events, fromState: r.state, toState: (s) => s.status === 'done' });
        expect(onward.length, `${slug}/${name}: stuck in ${String(r.state.value)}`).toBeGreaterThan(0);
      }
      // Simple paths from enrollment to a final state: one per story this lead can live.
      const stories = getSimplePaths(machine, { input: INPUT, events, toState: (s) => s.status === 'done' });
      const emails = new Set<string>();
      for (const story of stories) {
        const r = replay(machine, story.steps.map((s) => s.event));
        expect(r.status).toBe('done');
        expect(endsWell(wf, r.end), `${slug}/${name} ends in ${r.end}`).toBe(true);
        r.nodes.forEach((n) => entered.add(n));
        emails.add(r.emails.join(' > '));
      }
      expect([...emails].sort(), `${slug}/${name}`).toEqual(EXPECTED_EMAILS[slug][name]);
    }
    const all = [...Object.keys(wf.nodes), ...wf.goals.map((g) => `${GOAL_STATE_PREFIX}${g.id}`)];
    expect(all.filter((n) => !entered.has(n))).toEqual([]);
  });
});
