import { sql } from 'kysely';
import { initialTransition, transition, type AnyStateMachine } from 'xstate';
import type { Db } from '../db/database';
import type { EventsTable, WorkflowInstancesTable, WorkflowOutboxTable } from '../db/schema';
import { workflowsRepo } from '../repositories/workflows.repo';
import { parseJson } from '../repositories/json';
import { workflowSchema, type Workflow } from '../../shared/workflow';
import type { Deps } from '../services/deps';
import { compileWorkflow, CONTINUE_EVENT, EFFECT_ACTION, ENTER_ACTION, ENROLL_STATE, GOAL_STATE_PREFIX, INLINE_EFFECT_KINDS } from './compiler';
import { eventTypesIn } from './conditions';
import { ENROLL_EVENT, type EngineEvent, type LeadFacts } from './facts';
import { addMs, engineProfile, mark } from './profile';

interface CompiledVersion {
  versionId: string;
  workflowId: string;
  slug: string;
  definition: Workflow;
  machine: AnyStateMachine;
  /** Event types the flow's conditions look back at. */
  factEventTypes: string[];
}

interface MachineAction {
  type: string;
  params?: Record<string, unknown>;
}

/** The outcome of feeding one event to one instance. */
export interface StepResult {
  instanceId: string;
  status: WorkflowInstancesTable['status'];
  node: string | null;
  effects: number;
}

export class StaleInstanceError extends Error {}

const FACT_EVENT_LIMIT = 200;
const FACT_WINDOW_MS = 400 * 86_400_000;

/**
 * Runs workflow machines durably. It never keeps a live actor: for each event it restores the
 * instance's snapshot against its pinned version, calls XState's pure `transition()`, and in
 * the same transaction writes the snapshot (optimistic version check), the timers for delayed
 * events, the deletes for cancelled ones and an outbox row per effect. No network call happens
 * here; effects run later in the outbox worker.
 */
/** Applies an effect on the lead's own data inside the step's transaction; answers its result. */
export type InlineEffectRunner = (trx: Db, effect: WorkflowOutboxTable, params: Record<string, unknown>) => Promise<unknown>;

/** At most this many inline effects in one step: a guard against a runaway chain. */
const MAX_INLINE_ROUNDS = 100;

export function createExecutor(deps: Deps, runInline: InlineEffectRunner) {
  const { db, clock, ids } = deps;
  const compiled = new Map<string, CompiledVersion>();

  async function versionOf(trx: Db, versionId: string): Promise<CompiledVersion> {
    const hit = compiled.get(versionId);
    if (hit) return hit;
    const v = await workflowsRepo.findVersion(trx, versionId);
    if (!v) throw new Error(`workflow version ${versionId} is missing`);
    const wf = await workflowsRepo.findById(trx, v.workflow_id);
    const definition = workflowSchema.parse(JSON.parse(v.definition));
    const types = new Set<string>();
    for (const g of definition.goals) eventTypesIn(g.condition, types);
    for (const n of Object.values(definition.nodes)) if (n.kind === 'branch') for (const c of n.cases) eventTypesIn(c.condition, types);
    const entry: CompiledVersion = {
      versionId,
      workflowId: v.workflow_id,
      slug: wf?.slug ?? '',
      definition,
      machine: compileWorkflow(definition),
      factEventTypes: [...types]
    };
    compiled.set(versionId, entry);
    return entry;
  }

  async function loadFacts(trx: Db, leadId: string, eventTypes: string[], now: number): Promise<LeadFacts> {
    const lead = await workflowsRepo.leadById(trx, leadId);
    if (!lead) throw new Error(`lead ${leadId} is gone`);
    const attributes = parseJson<Record<string, unknown>>(lead.attributes, {});
    const fields: Record<string, unknown> = { ...lead };
    for (const [k, v] of Object.entries(attributes)) fields[`attr:${k}`] = v;
    const events = eventTypes.length
      ? await trx
          .selectFrom('events')
          .select(['type', 'occurred_at', 'properties'])
          .where('lead_id', '=', leadId)
          .where('type', 'in', eventTypes)
          .where('occurred_at', '>=', now - FACT_WINDOW_MS)
          .orderBy('occurred_at', 'desc')
          .limit(FACT_EVENT_LIMIT)
          .execute()
      : [];
    return {
      id: lead.id,
      stage: lead.stage,
      fit: lead.fit_score,
      engagement: lead.engagement_score,
      fields,
      events: events.map((e) => ({ type: e.type, at: e.occurred_at, properties: parseJson(e.properties, {}) }))
    };
  }

  function awaitedTypes(def: Workflow, node: string | null): string | null {
    const n = node ? def.nodes[node] : undefined;
    return n?.kind === 'wait_until' ? ` ${n.eventType} ` : null;
  }

  function outcomeOf(snapshot: { status: string; value: unknown }, def: Workflow): { status: WorkflowInstancesTable['status']; node: string | null } {
    const node = typeof snapshot.value === 'string' ? snapshot.value : null;
    if (snapshot.status !== 'done') return { status: 'active', node };
    if (node?.startsWith(GOAL_STATE_PREFIX)) return { status: 'goal', node };
    const kind = node ? def.nodes[node]?.kind : undefined;
    return { status: kind === 'goal' ? 'goal' : kind === 'exit' ? 'exited' : 'finished', node };
  }

  /**
   * Applies a machine's actions for one step: timers, cancels, path entries and effects.
   * `stepVersion` is the instance version this step writes, so effect keys are unique per step.
   */
  async function applyActions(trx: Db, inst: { id: string; lead_id: string; workflow_id: string }, cv: CompiledVersion, actions: MachineAction[], stepVersion: number, now: number, from = 0) {
    const effects: WorkflowOutboxTable[] = [];
    const path: EventsTable[] = [];
    for (let i = from; i < actions.length; i++) {
      const a = actions[i];
      const p = a.params ?? {};
      if (a.type === 'xstate.raise' && typeof p.delay === 'number') {
        await workflowsRepo.upsertTimer(trx, {
          id: ids.newId(),
          instance_id: inst.id,
          timer_key: String(p.id),
          event: JSON.stringify(p.event),
          due_at: now + p.delay,
          claimed_until: null
        });
      } else if (a.type === 'xstate.cancel') {
        await workflowsRepo.deleteTimer(trx, inst.id, String(p.sendId));
      } else if (a.type === ENTER_ACTION) {
        engineProfile.nodes++;
        path.push({
          id: ids.newId(),
          lead_id: inst.lead_id,
          type: 'workflow_step',
          properties: JSON.stringify({ workflowId: cv.workflowId, workflow: cv.slug, instanceId: inst.id, nodeId: p.nodeId, kind: p.kind, ...(p.goal ? { goal: p.goal } : {}) }),
          source: 'workflow',
          actor_id: null,
          occurred_at: now,
          received_at: now,
          dedupe_key: null
        });
      } else if (a.type === EFFECT_ACTION) {
        const { nodeId, kind, ...params } = p as { nodeId: string; kind: string };
        effects.push({
          id: ids.newId(),
          effect_key: `${inst.id}:${stepVersion}:${i}`,
          instance_id: inst.id,
          workflow_id: inst.workflow_id,
          lead_id: inst.lead_id,
          node_id: nodeId,
          kind,
          params: JSON.stringify(params),
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          lease_until: null,
          last_error: null,
          result: null,
          created_at: now,
          done_at: null
        });
      }
    }
    await workflowsRepo.appendEvents(trx, path);
    let inline = 0;
    for (const e of effects) {
      if (!INLINE_EFFECT_KINDS.has(e.kind)) continue;
      inline++;
      e.result = JSON.stringify((await runInline(trx, e, parseJson(e.params, {}))) ?? null);
      Object.assign(e, { status: 'done', attempts: 1, done_at: now });
    }
    await workflowsRepo.insertEffects(trx, effects);
    return { effects: effects.length, inline };
  }

  /**
   * One event into one instance, inside the caller's transaction. `machine` replaces the version's
   * own for this one step: a publish that moves a lead into another node passes the version's
   * machine compiled with that node as its start (same states), so entering it goes through here.
   */
  async function stepIn(trx: Db, instanceId: string, event: Omit<EngineEvent, 'now' | 'lead'>, known?: WorkflowInstancesTable, machine?: AnyStateMachine): Promise<StepResult | null> {
    // `known` is a row this transaction just wrote (enrollment): no need to read it back.
    const inst = known?.id === instanceId ? known : await workflowsRepo.findInstance(trx, instanceId);
    if (!inst || inst.status !== 'active') return null;
    const now = clock.now();
    const cv = await versionOf(trx, inst.version_id);
    const m = machine ?? cv.machine;
    engineProfile.steps++;
    let snapshot;
    try {
      let t = mark();
      const persisted = JSON.parse(inst.snapshot);
      addMs('jsonMs', t);
      t = mark();
      snapshot = m.resolveState(persisted);
      addMs('transitionMs', t);
    } catch (e) {
      // A snapshot that no longer restores is a bug: fail this instance, keep the others running.
      await workflowsRepo.markFailed(trx, inst.id, `snapshot does not restore: ${(e as Error).message}`, now);
      await workflowsRepo.deleteTimersOf(trx, inst.id);
      return { instanceId: inst.id, status: 'failed', node: inst.current_node, effects: 0 };
    }
    let lead = await loadFacts(trx, inst.lead_id, cv.factEventTypes, now);
    let t = mark();
    let [next, actions] = transition(m, snapshot, { ...event, now, lead } as never);
    engineProfile.transitions++;
    addMs('transitionMs', t);
    const all: MachineAction[] = [];
    let effects = 0;
    for (let round = 0; ; round++) {
      const offset = all.length;
      all.push(...(actions as MachineAction[]));
      // Keys stay unique across rounds because indexes continue from the previous round's.
      const applied = await applyActions(trx, inst, cv, all, inst.version + 1, now, offset);
      effects += applied.effects;
      if (applied.inline === 0 || next.status === 'done') break;
      if (round >= MAX_INLINE_ROUNDS) throw new Error('too many data effects in one step');
      lead = await loadFacts(trx, inst.lead_id, cv.factEventTypes, now);
      t = mark();
      [next, actions] = transition(m, next, { type: CONTINUE_EVENT, now, lead } as never);
      engineProfile.transitions++;
      addMs('transitionMs', t);
    }
    const out = outcomeOf(next, cv.definition);
    t = mark();
    const persisted = m.getPersistedSnapshot(next);
    addMs('transitionMs', t);
    t = mark();
    const snapshotJson = JSON.stringify(persisted);
    addMs('jsonMs', t);
    const saved = await workflowsRepo.saveStep(trx, inst.id, inst.version, {
      snapshot: snapshotJson,
      status: out.status,
      current_node: out.node,
      awaiting: out.status === 'active' ? awaitedTypes(cv.definition, out.node) : null,
      updated_at: now,
      finished_at: out.status === 'active' ? null : now
    });
    if (!saved) throw new StaleInstanceError(`instance ${inst.id} changed while stepping`);
    if (out.status !== 'active') await workflowsRepo.deleteTimersOf(trx, inst.id);
    return { instanceId: inst.id, status: out.status, node: out.node, effects };
  }

  /** Whether the lead may (re-)enter the flow now under its re-entry rule. */
  async function mayEnter(trx: Db, cv: CompiledVersion, leadId: string, now: number) {
    const last = await workflowsRepo.latestInstanceFor(trx, cv.workflowId, leadId);
    if (!last) return true;
    if (last.status === 'active') return false;
    const rule = cv.definition.reentry;
    if (rule.mode === 'never') return false;
    if (rule.mode === 'after_exit') return true;
    const cooldown = { minutes: 60_000, hours: 3_600_000, days: 86_400_000, weeks: 604_800_000 }[rule.cooldown.unit] * rule.cooldown.amount;
    return now - (last.finished_at ?? last.enrolled_at) >= cooldown;
  }

  async function enrollIn(trx: Db, versionId: string, leadId: string, reason: Record<string, unknown>): Promise<StepResult | null> {
    const cv = await versionOf(trx, versionId);
    const now = clock.now();
    if (!(await mayEnter(trx, cv, leadId, now))) return null;
    const instanceId = ids.newId();
    const input = { instanceId, leadId, workflowId: cv.workflowId, versionId };
    const [initial] = initialTransition(cv.machine, input);
    const row: WorkflowInstancesTable = {
      id: instanceId,
      workflow_id: cv.workflowId,
      version_id: versionId,
      lead_id: leadId,
      status: 'active',
      current_node: ENROLL_STATE,
      snapshot: JSON.stringify(cv.machine.getPersistedSnapshot(initial)),
      version: 0,
      awaiting: null,
      error: null,
      enrolled_at: now,
      updated_at: now,
      finished_at: null
    };
    await workflowsRepo.insertInstance(trx, row);
    await workflowsRepo.appendEvents(trx, [{
      id: ids.newId(),
      lead_id: leadId,
      type: 'workflow_enrolled',
      properties: JSON.stringify({ workflowId: cv.workflowId, workflow: cv.slug, instanceId, ...reason }),
      source: 'workflow',
      actor_id: null,
      occurred_at: now,
      received_at: now,
      dedupe_key: null
    }]);
    return stepIn(trx, instanceId, { type: ENROLL_EVENT }, row);
  }

  /**
   * How long this executor waited for SQLite's write lock (another connection held it: the
   * serving thread writing hits and API events) and held it, since the worker loop last reset it.
   */
  const lockUse = { waitMs: 0, holdMs: 0 };

  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so two
   * worker processes on one SQLite file queue instead of deadlocking on a lock upgrade.
   */
  async function immediate<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    return db.connection().execute(async (conn) => {
      const asked = performance.now();
      await sql`begin immediate`.execute(conn);
      const got = performance.now();
      lockUse.waitMs += got - asked;
      try {
        const r = await fn(conn);
        await sql`commit`.execute(conn);
        lockUse.holdMs += performance.now() - got;
        return r;
      } catch (e) {
        await sql`rollback`.execute(conn);
        throw e;
      }
    });
  }

  /** Runs each item in its own savepoint inside one transaction: one bad step fails alone. */
  async function batch<T, R>(items: T[], fn: (trx: Db, item: T) => Promise<R>, onError: (trx: Db, item: T, e: Error) => Promise<void>): Promise<R[]> {
    if (!items.length) return [];
    return immediate(async (trx) => {
      const out: R[] = [];
      for (const item of items) {
        await sql`savepoint step`.execute(trx);
        try {
          out.push(await fn(trx, item));
          await sql`release step`.execute(trx);
        } catch (e) {
          await sql`rollback to step`.execute(trx);
          await sql`release step`.execute(trx);
          await onError(trx, item, e as Error);
        }
      }
      return out;
    });
  }

  return {
    immediate,
    lockUse,
    batch,
    versionOf,
    loadFacts,
    /** Enrolls one lead in a flow's current version; null when the re-entry rule says no. */
    enroll(versionId: string, leadId: string, reason: Record<string, unknown> = {}) {
      return immediate((trx) => enrollIn(trx, versionId, leadId, reason));
    },
    enrollIn,
    /** Feeds one event to one instance in its own transaction. */
    deliver(instanceId: string, event: Omit<EngineEvent, 'now' | 'lead'>) {
      return immediate((trx) => stepIn(trx, instanceId, event));
    },
    stepIn,
    forget(versionId: string) {
      compiled.delete(versionId);
    }
  };
}

export type Executor = ReturnType<typeof createExecutor>;
