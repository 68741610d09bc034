import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { z } from 'zod';
import { STAGES } from '../../shared/lead';
import { SCORE_MAX, engagementRuleSchema, type EngagementRule } from '../../shared/scoring';
import type { Workflow } from '../../shared/workflow';
import { compileWorkflow, CONTINUE_EVENT, EFFECT_ACTION, ENTER_ACTION, GOAL_STATE_PREFIX, INLINE_EFFECT_KINDS } from '../engine/compiler';
import { ENROLL_EVENT, FACTS_CHANGED_EVENT, type LeadFacts } from '../engine/facts';
import { engagementRuleMatches, clampEngagement } from '../scoring/rules';
import type { RenderedEmail } from '../email/contract';
import type { LeadsTable } from '../db/schema';
import type { Config } from '../config';
import type { Engine } from '../engine/engine';
import { leadScope, renderTemplate } from '../email/render';
import { workflowsRepo } from '../repositories/workflows.repo';
import { templatesRepo } from '../repositories/templates.repo';
import { scoringRepo } from '../repositories/scoring.repo';
import { workspaceOf } from './templates.service';
import { NotFoundError, type Deps } from './deps';

const DAY = 86_400_000;
/** Transitions one simulated run may take: a flow that loops through a wait would run for ever. */
export const SIM_STEP_LIMIT = 500;
/** Simulated time a run may cover. */
export const SIM_HORIZON_DAYS = 730;
/** Lead events that make the real engine re-check goals (engine.ts FACT_EVENTS). */
const FACT_EVENTS = new Set(['field_changed', 'stage_changed', 'owner_changed', 'score_changed']);

export const simLeadSchema = z.object({
  name: z.string().trim().max(200).default('Anna Smirnova'),
  email: z.string().trim().max(200).default('anna@example.com'),
  company: z.string().trim().max(200).default(''),
  job_title: z.string().trim().max(200).default(''),
  country: z.string().trim().max(100).default(''),
  city: z.string().trim().max(100).default(''),
  stage: z.enum(STAGES).default('lead'),
  fit: z.number().int().min(0).max(1000).default(0),
  engagement: z.number().int().min(0).max(1000).default(0),
  attributes: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), z.union([z.string().max(500), z.number(), z.boolean()])).default({})
});
export type SimLead = z.infer<typeof simLeadSchema>;

/** "Clicks email 2 on day 3": an event at a day of the run, optionally about one email step. */
export const simEventSchema = z.object({
  day: z.number().min(0).max(SIM_HORIZON_DAYS),
  type: z.string().regex(/^[a-z][a-z0-9_.:-]{0,63}$/, 'event types are lower-case'),
  /** The send_email node the event is about (opens, clicks). */
  emailNode: z.string().max(64).optional(),
  properties: z.record(z.string().max(100), z.union([z.string().max(500), z.number(), z.boolean()])).optional()
});
export type SimEvent = z.infer<typeof simEventSchema>;

export interface SimStep {
  day: number;
  at: number;
  nodeId: string;
  kind: string;
  label: string | null;
  /** What the step did, in words the UI shows as they are (values, not sentences). */
  detail?: Record<string, unknown>;
}

export interface SimEmail {
  nodeId: string;
  day: number;
  template: string;
  email?: RenderedEmail;
  error?: string;
}

export interface SimScoreChange {
  day: number;
  score: 'fit' | 'engagement';
  from: number;
  to: number;
  reason: string;
}

export interface SimResult {
  steps: SimStep[];
  emails: SimEmail[];
  scores: SimScoreChange[];
  /** Scripted events and what became of them. */
  events: { day: number; type: string; emailNode?: string; outcome: 'delivered' | 'ignored'; note?: string }[];
  outcome: { status: 'goal' | 'exited' | 'finished' | 'waiting' | 'step_limit' | 'horizon'; node: string | null; day: number; message: string };
  transitions: number;
}

/** Renders a template for the lead as it is at that moment; throws on a missing or broken template. */
export type SimRenderer = (template: string, lead: LeadsTable) => RenderedEmail;

type Actions = { type: string; params?: Record<string, unknown> }[];

interface Timer {
  event: { type: string };
  due: number;
}

/** The lead row a template sees, built from a described sample lead. */
export function sampleLeadRow(s: SimLead, now: number): LeadsTable {
  return {
    id: 'simulated-lead',
    email: s.email || null,
    phone: null,
    name: s.name || null,
    company: s.company || null,
    job_title: s.job_title || null,
    company_size: null,
    industry: null,
    city: s.city || null,
    region: null,
    country: s.country || null,
    timezone: null,
    attributes: JSON.stringify(s.attributes),
    stage: s.stage,
    owner_id: null,
    consent_marketing: 1,
    consent_tracking: 1,
    source: 'simulation',
    channel_id: null,
    first_touch: '{}',
    last_touch: '{}',
    fit_score: s.fit,
    engagement_score: s.engagement,
    merged_into_id: null,
    search_text: '',
    created_at: now,
    updated_at: now
  };
}

/**
 * Runs a flow for one lead on a simulated clock with the engine's own compiled machine: the same
 * transitions, guards and delays, with effects applied to an in-memory copy of the lead. Nothing
 * is stored and nothing is sent. Timers fire in due order, scripted events at their day; the run
 * ends when the lead leaves the flow, waits with nothing left to happen, or hits a limit.
 */
export function simulateFlow(def: Workflow, start: LeadsTable, script: SimEvent[], opts: { now: number; render: SimRenderer; rules?: EngagementRule[]; stepLimit?: number }): SimResult {
  const machine = compileWorkflow(def);
  const stepLimit = opts.stepLimit ?? SIM_STEP_LIMIT;
  const t0 = opts.now;
  const lead: LeadsTable = { ...start };
  const attrs = (): Record<string, unknown> => JSON.parse(lead.attributes || '{}');
  const history: LeadFacts['events'] = [];
  const facts = (): LeadFacts => {
    const fields: Record<string, unknown> = { ...lead };
    for (const [k, v] of Object.entries(attrs())) fields[`attr:${k}`] = v;
    return { id: lead.id, stage: lead.stage, fit: lead.fit_score, engagement: lead.engagement_score, fields, events: [...history].reverse() };
  };
  const out: SimResult = { steps: [], emails: [], scores: [], events: [], outcome: { status: 'waiting', node: null, day: 0, message: '' }, transitions: 0 };
  const timers = new Map<string, Timer>();
  const sentEmails = new Set<string>();
  let now = t0;
  const day = (t: number) => Math.round(((t - t0) / DAY) * 100) / 100;
  const ctx = { instanceId: 'simulation', leadId: lead.id, workflowId: 'simulation', versionId: 'simulation' };
  let [state] = initialTransition(machine, ctx) as [AnyMachineSnapshot, unknown];

  function setScore(score: 'fit' | 'engagement', to: number, reason: string) {
    const col = score === 'fit' ? 'fit_score' : 'engagement_score';
    if (lead[col] === to) return;
    out.scores.push({ day: day(now), score, from: lead[col], to, reason });
    lead[col] = to;
  }

  /** An effect on the in-memory lead, or a note of what would have happened; true when lead facts changed. */
  function applyEffect(p: Record<string, unknown>): boolean {
    const nodeId = String(p.nodeId);
    const step = out.steps.findLast((s) => s.nodeId === nodeId);
    const note = (detail: Record<string, unknown>) => step && (step.detail = { ...step.detail, ...detail });
    switch (p.kind) {
      case 'send_email': {
        const template = String(p.template);
        const email: SimEmail = { nodeId, day: day(now), template };
        try {
          email.email = opts.render(template, lead);
          note({ subject: email.email.subject });
        } catch (e) {
          email.error = (e as Error).message;
          note({ error: email.error });
        }
        out.emails.push(email);
        sentEmails.add(nodeId);
        history.push({ type: 'email_sent', at: now, properties: { nodeId, workflowId: ctx.workflowId } });
        return false;
      }
      case 'adjust_score':
        setScore(p.score === 'fit' ? 'fit' : 'engagement', (p.score === 'fit' ? lead.fit_score : lead.engagement_score) + Number(p.points), String(p.reason ?? 'workflow'));
        return true;
      case 'set_stage':
        note({ from: lead.stage, to: p.stage });
        lead.stage = String(p.stage);
        return true;
      case 'update_field': {
        const field = String(p.field);
        note({ field, to: p.value });
        if (field.startsWith('attr:')) lead.attributes = JSON.stringify({ ...attrs(), [field.slice(5)]: p.value });
        else (lead as unknown as Record<string, unknown>)[field] = p.value;
        return true;
      }
      case 'assign_owner':
        note({ strategy: p.strategy, userEmail: p.userEmail ?? null });
        return true;
      default:
        // notify, webhook, handoff: recorded on the step, never performed.
        note({ wouldRun: p.kind });
        return false;
    }
  }

  /** Feeds one event, then the `wf.continue` rounds after data effects, as the executor does. */
  function feed(event: { type: string; properties?: Record<string, unknown> }) {
    let [next, actions] = transition(machine, state, { ...event, now, lead: facts() } as never) as [AnyMachineSnapshot, Actions];
    out.transitions++;
    let factsChanged = false;
    for (;;) {
      let inline = 0;
      for (const a of actions) {
        const p = a.params ?? {};
        if (a.type === 'xstate.raise' && typeof p.delay === 'number') timers.set(String(p.id), { event: p.event as { type: string }, due: now + p.delay });
        else if (a.type === 'xstate.cancel') timers.delete(String(p.sendId));
        else if (a.type === ENTER_ACTION) {
          const id = String(p.nodeId);
          const goal = id.startsWith(GOAL_STATE_PREFIX);
          out.steps.push({ day: day(now), at: now, nodeId: id, kind: String(p.kind), label: goal ? String(p.goal ?? '') : (def.nodes[id]?.label ?? null) });
        } else if (a.type === EFFECT_ACTION) {
          if (applyEffect(p)) factsChanged = true;
          if (INLINE_EFFECT_KINDS.has(String(p.kind))) inline++;
        }
      }
      if (inline === 0 || next.status === 'done' || out.transitions >= stepLimit) break;
      [next, actions] = transition(machine, next, { type: CONTINUE_EVENT, now, lead: facts() } as never) as [AnyMachineSnapshot, Actions];
      out.transitions++;
    }
    state = next;
    // The real engine re-checks goals when the lead's data changes (a dispatched fact event).
    if (factsChanged && def.goals.length && state.status !== 'done' && out.transitions < stepLimit) feed({ type: FACTS_CHANGED_EVENT });
  }

  function applyScripted(e: SimEvent) {
    if (e.emailNode && !sentEmails.has(e.emailNode)) {
      out.events.push({ day: e.day, type: e.type, emailNode: e.emailNode, outcome: 'ignored', note: 'email not sent yet' });
      return;
    }
    const properties: Record<string, unknown> = { ...(e.emailNode ? { nodeId: e.emailNode, workflowId: ctx.workflowId } : {}), ...e.properties };
    history.push({ type: e.type, at: now, properties });
    // A scripted stage change ("becomes SQL on day 2") changes the simulated lead, as a rep's would.
    if (e.type === 'stage_changed' && (STAGES as readonly string[]).includes(String(properties.to))) lead.stage = String(properties.to);
    const scoredBefore = out.scores.length;
    for (const r of opts.rules ?? []) if (engagementRuleMatches(r, e.type, properties)) setScore('engagement', clampEngagement(lead.engagement_score + r.points, SCORE_MAX), r.name);
    const node = typeof state.value === 'string' ? def.nodes[state.value] : undefined;
    const awaited = node?.kind === 'wait_until' && node.eventType === e.type;
    out.events.push({ day: e.day, type: e.type, emailNode: e.emailNode, outcome: awaited ? 'delivered' : 'ignored', note: awaited ? undefined : 'the lead was not waiting for it' });
    if (awaited) feed({ type: e.type, properties });
    else if ((FACT_EVENTS.has(e.type) || out.scores.length > scoredBefore) && def.goals.length) feed({ type: FACTS_CHANGED_EVENT });
  }

  feed({ type: ENROLL_EVENT });
  const queue = [...script].sort((a, b) => a.day - b.day);
  const horizon = t0 + SIM_HORIZON_DAYS * DAY;
  while (state.status !== 'done') {
    if (out.transitions >= stepLimit) {
      out.outcome = { status: 'step_limit', node: String(state.value), day: day(now), message: `stopped after ${stepLimit} steps: the flow keeps going round a loop` };
      return out;
    }
    const timer = [...timers.entries()].sort((a, b) => a[1].due - b[1].due)[0];
    const scripted = queue[0] ? t0 + queue[0].day * DAY : Infinity;
    const due = Math.min(timer?.[1].due ?? Infinity, scripted);
    if (due === Infinity) break;
    if (due > horizon) {
      out.outcome = { status: 'horizon', node: String(state.value), day: day(now), message: `stopped at day ${SIM_HORIZON_DAYS}` };
      return out;
    }
    now = Math.max(now, due);
    if (scripted <= (timer?.[1].due ?? Infinity)) applyScripted(queue.shift()!);
    else {
      timers.delete(timer[0]);
      feed(timer[1].event);
    }
  }
  const node = typeof state.value === 'string' ? state.value : null;
  if (state.status === 'done') {
    const kind = node?.startsWith(GOAL_STATE_PREFIX) ? 'goal' : node ? def.nodes[node]?.kind : undefined;
    const status = kind === 'goal' ? 'goal' : kind === 'exit' ? 'exited' : 'finished';
    out.outcome = { status, node, day: day(now), message: status };
  } else {
    out.outcome = { status: 'waiting', node, day: day(now), message: 'waits here: nothing else is scheduled or scripted' };
  }
  // Scripted events after the lead left are listed too, so the author sees they did not count.
  for (const e of queue) out.events.push({ day: e.day, type: e.type, emailNode: e.emailNode, outcome: 'ignored', note: 'the lead had left the flow' });
  return out;
}

/** Engagement rules as the scoring service stores them (definition JSON), active ones only. */
export function parseEngagementRules(rows: { definition: string }[]): EngagementRule[] {
  const rules: EngagementRule[] = [];
  for (const r of rows) {
    try {
      const parsed = engagementRuleSchema.safeParse(JSON.parse(r.definition));
      if (parsed.success && parsed.data.active) rules.push(parsed.data);
    } catch {
      // a broken stored rule is skipped, as the scoring service does
    }
  }
  return rules;
}

export const simulateInputSchema = z
  .object({
    definition: z.unknown(),
    leadId: z.string().min(1).max(64).optional(),
    sample: simLeadSchema.optional(),
    events: z.array(simEventSchema).max(50).default([])
  })
  .refine((i) => !(i.leadId && i.sample), 'pick a lead or describe one, not both');
export type SimulateInput = z.infer<typeof simulateInputSchema>;

/**
 * The simulator as the designer calls it: checks the definition as a publish would (problems by
 * path), takes an existing lead's row (read only) or a described sample, and renders each email
 * with the stored templates exactly as a send would, links pointing at preview pages.
 */
export function createWorkflowSimulator(deps: Pick<Deps, 'db' | 'clock'>, config: Config, engine: Pick<Engine, 'parseDefinition'>) {
  const { db, clock } = deps;
  const workspace = workspaceOf(config);
  const base = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/$/, '');
  const links = { unsubscribe_url: `${base}/unsubscribe/preview`, preferences_url: `${base}/preferences/preview` };

  return async function simulate(input: SimulateInput): Promise<SimResult> {
    const def = engine.parseDefinition(input.definition);
    const now = clock.now();
    let row: LeadsTable;
    let owner: { name: string; email: string } | null = null;
    if (input.leadId) {
      const found = await workflowsRepo.leadById(db, input.leadId);
      if (!found) throw new NotFoundError('No such lead');
      row = found;
      owner = found.owner_id ? ((await templatesRepo.userById(db, found.owner_id)) ?? null) : null;
    } else row = sampleLeadRow(simLeadSchema.parse(input.sample ?? {}), now);
    const slugs = [...new Set(Object.values(def.nodes).flatMap((n) => (n.kind === 'send_email' ? [n.template] : [])))];
    const templates = new Map((await templatesRepo.bySlugs(db, slugs)).map((t) => [t.slug, t]));
    const rules = parseEngagementRules(await scoringRepo.listRules(db));
    const render: SimRenderer = (slug, lead) => {
      const t = templates.get(slug);
      if (!t) throw new Error(`email template "${slug}" does not exist`);
      return renderTemplate(t, { lead: leadScope({ ...lead }), owner, workspace, ...links });
    };
    return simulateFlow(def, row, input.events, { now, render, rules });
  };
}
