import type { AnyStateMachine } from 'xstate';
import { z } from 'zod';
import { durationMs, isWaiting, nextOf, type Workflow, type WorkflowNode } from '../../shared/workflow';
import { compileWorkflow, delayName, ENROLL_STATE, waitDelay } from '../engine/compiler';
import { ENROLL_EVENT } from '../engine/facts';
import { StaleInstanceError } from '../engine/executor';
import type { Engine } from '../engine/engine';
import type { Db } from '../db/database';
import type { WorkflowInstancesTable } from '../db/schema';
import { blocking, checkWorkflow, type CheckProblem } from '../../shared/workflow-check';
import { flowRuntimeRepo } from '../repositories/flow-runtime.repo';
import { workflowsRepo } from '../repositories/workflows.repo';
import { parseJson } from '../repositories/json';
import { assertTemplatesUsable } from './templates.service';
import { InputError, NotFoundError, type Actor, type Deps } from './deps';

/** What changed between the live version and the one about to be published. */
export interface DefinitionDiff {
  added: string[];
  removed: string[];
  changed: string[];
  /** Trigger, re-entry, goals, start or name changed. */
  settingsChanged: boolean;
}

/** A node's behaviour: everything but where it sits on the canvas and its label. */
function behaviourOf(n: WorkflowNode): string {
  const { position: _p, label: _l, ...rest } = n;
  return JSON.stringify(rest);
}

export function diffDefinitions(live: Workflow | null, next: Workflow): DefinitionDiff {
  const before = live?.nodes ?? {};
  const ids = (o: object) => Object.keys(o);
  const { nodes: _a, ...settingsBefore } = live ?? ({} as Partial<Workflow>);
  const { nodes: _b, description: _d1, ...settingsAfter } = next;
  delete (settingsBefore as { description?: string }).description;
  return {
    added: ids(next.nodes).filter((id) => !before[id]),
    removed: ids(before).filter((id) => !next.nodes[id]),
    changed: ids(next.nodes).filter((id) => before[id] && behaviourOf(before[id]) !== behaviourOf(next.nodes[id])),
    settingsChanged: live !== null && JSON.stringify(settingsBefore) !== JSON.stringify(settingsAfter)
  };
}

/** Where the leads of each removed node go when the publisher moves leads to the new version. */
export const publishChoiceSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('keep') }),
  z.object({ mode: z.literal('migrate'), mapping: z.record(z.string().max(64), z.string().max(64)).default({}) })
]);
export type PublishChoice = z.infer<typeof publishChoiceSchema>;

const MIGRATE_PAGE = 200;

/**
 * Publishing from the designer: the impact of a new version on running leads (a diff against the
 * live version and how many leads sit in each changed or removed node), then the publish itself,
 * leaving running leads on their version or moving them node by node. Each lead moves in its own
 * savepoint with the executor's optimistic version check; its timers are re-planned for the node
 * it lands in and the move is written on its timeline.
 */
export function createWorkflowPublish(deps: Deps, engine: Engine) {
  const { db, clock, ids } = deps;
  const entryMachines = new Map<string, AnyStateMachine>();

  /** The version's machine with `nodeId` as its start: enrolling it enters that node, effects and all. */
  function entryMachine(versionId: string, def: Workflow, nodeId: string) {
    const key = `${versionId}:${nodeId}`;
    let m = entryMachines.get(key);
    if (!m) entryMachines.set(key, (m = compileWorkflow({ ...def, start: nodeId })));
    return m;
  }

  async function liveOf(slug: string) {
    const flow = await workflowsRepo.findBySlug(db, slug);
    if (!flow) return { flow: undefined, version: undefined, definition: null };
    const version = flow.current_version_id ? await workflowsRepo.findVersion(db, flow.current_version_id) : undefined;
    return { flow, version, definition: version ? parseJson<Workflow | null>(version.definition, null) : null };
  }

  /** Schema, graph and template checks, every problem named by its path; throws InputError. */
  async function validated(slug: string, raw: unknown): Promise<Workflow> {
    // The designer's validator first (the same code the canvas runs), then the engine's own checks.
    const problems = blocking(checkWorkflow(raw));
    if (problems.length) throw new InputError(problems.map((p) => ({ field: p.path, message: problemText(p) })));
    const def = engine.parseDefinition(raw);
    if (def.slug !== slug) throw new InputError([{ field: 'slug', message: `the flow is "${slug}"; a definition for "${def.slug}" cannot be published here` }]);
    await assertTemplatesUsable(db, [...new Set(Object.values(def.nodes).flatMap((n) => (n.kind === 'send_email' ? [n.template] : [])))]);
    return def;
  }

  async function impact(slug: string, raw: unknown) {
    let def: Workflow;
    try {
      def = await validated(slug, raw);
    } catch (e) {
      if (e instanceof InputError) return { ok: false as const, problems: e.issues };
      throw e;
    }
    const live = await liveOf(slug);
    const diff = diffDefinitions(live.definition, def);
    const resting = live.version && live.flow ? await flowRuntimeRepo.activeOnVersion(db, live.flow.id, live.version.id) : [];
    const countOf = (id: string) => resting.find((r) => r.node === id)?.count ?? 0;
    const affected = [
      ...diff.changed.map((id) => ({ id, change: 'changed' as const, label: def.nodes[id].label ?? null, kind: def.nodes[id].kind, count: countOf(id) })),
      ...diff.removed.map((id) => ({ id, change: 'removed' as const, label: live.definition!.nodes[id].label ?? null, kind: live.definition!.nodes[id].kind, count: countOf(id) }))
    ];
    const onLive = resting.reduce((s, r) => s + r.count, 0);
    return {
      ok: true as const,
      liveVersion: live.version?.version ?? null,
      diff,
      affected,
      onLive,
      unaffected: onLive - affected.reduce((s, a) => s + a.count, 0),
      /** Nodes a removed node's leads may be sent to, with a suggestion: its first successor still there, else the start. */
      targets: Object.entries(def.nodes).map(([id, n]) => ({ id, label: n.label ?? null, kind: n.kind })),
      suggested: Object.fromEntries(diff.removed.map((id) => [id, suggestTarget(live.definition!, def, id)]))
    };
  }

  /** Moves one instance onto the new version; 'kept' when it has nowhere to go. */
  async function migrateOne(trx: Db, instanceId: string, m: { fromVersionId: string; toVersionId: string; from: Workflow; to: Workflow; fromNumber: number; toNumber: number; workflowId: string; slug: string; mapping: Record<string, string> }) {
    const inst = await workflowsRepo.findInstance(trx, instanceId);
    if (!inst || inst.status !== 'active' || inst.version_id !== m.fromVersionId) return 'skipped' as const;
    const now = clock.now();
    const at = inst.current_node ?? ENROLL_STATE;
    const target = at === ENROLL_STATE ? m.to.start : m.to.nodes[at] ? at : m.mapping[at];
    if (!target || !m.to.nodes[target]) return 'kept' as const;
    const context = { ...parseJson<{ context?: Record<string, unknown> }>(inst.snapshot, {}).context, versionId: m.toVersionId };
    const snapshotAt = (value: string) => JSON.stringify({ status: 'active', value, historyValue: {}, context, children: {} });
    const before = m.from.nodes[at];
    const after = m.to.nodes[target];
    if (target === at && before && before.kind === after.kind && isWaiting(after)) {
      // Same waiting node: the lead keeps its place and the time it has already waited.
      const ok = await flowRuntimeRepo.repin(trx, inst.id, inst.version, {
        version_id: m.toVersionId,
        snapshot: snapshotAt(target),
        current_node: target,
        awaiting: after.kind === 'wait_until' ? ` ${after.eventType} ` : null,
        updated_at: now
      });
      if (!ok) throw new StaleInstanceError(`instance ${inst.id} changed while moving`);
      if (behaviourOf(before) !== behaviourOf(after)) await replanWait(trx, inst, target, before, after, now);
    } else {
      // Another node: enter it through the executor, as if the version started there.
      const ok = await flowRuntimeRepo.repin(trx, inst.id, inst.version, { version_id: m.toVersionId, snapshot: snapshotAt(ENROLL_STATE), current_node: ENROLL_STATE, awaiting: null, updated_at: now });
      if (!ok) throw new StaleInstanceError(`instance ${inst.id} changed while moving`);
      await workflowsRepo.deleteTimersOf(trx, inst.id);
      await engine.executor.stepIn(trx, inst.id, { type: ENROLL_EVENT }, undefined, entryMachine(m.toVersionId, m.to, target));
    }
    await workflowsRepo.appendEvents(trx, [
      {
        id: ids.newId(),
        lead_id: inst.lead_id,
        type: 'workflow_migrated',
        properties: JSON.stringify({ workflowId: m.workflowId, workflow: m.slug, instanceId: inst.id, fromVersion: m.fromNumber, toVersion: m.toNumber, fromNode: at, toNode: target }),
        source: 'workflow',
        actor_id: null,
        occurred_at: now,
        received_at: now,
        dedupe_key: null
      }
    ]);
    return 'moved' as const;
  }

  /** A changed wait keeps its start: the due time moves by the difference in length. */
  async function replanWait(trx: Db, inst: WorkflowInstancesTable, nodeId: string, before: WorkflowNode, after: WorkflowNode, now: number) {
    const key = `xstate.after.${delayName(nodeId)}.wf.${nodeId}`;
    const timer = (await flowRuntimeRepo.timersOf(trx, inst.id)).find((t) => t.timer_key === key);
    if (!timer) return;
    let due: number;
    if (before.kind === 'wait_until' && after.kind === 'wait_until') due = timer.due_at - durationMs(before.timeout) + durationMs(after.timeout);
    else if (before.kind === 'wait' && after.kind === 'wait' && before.wait.type === 'duration' && after.wait.type === 'duration')
      due = timer.due_at - durationMs(before.wait.duration) + durationMs(after.wait.duration);
    else if (after.kind === 'wait') due = now + waitDelay(after.wait, now, await engine.executor.loadFacts(trx, inst.lead_id, [], now));
    else return;
    await flowRuntimeRepo.setTimerDue(trx, timer.id, Math.max(now, due));
  }

  return {
    impact,

    async publish(actor: Actor, slug: string, raw: unknown, choice: PublishChoice) {
      const def = await validated(slug, raw);
      const live = await liveOf(slug);
      const published = await engine.publish(actor, def);
      const result = { version: published.version, moved: 0, kept: 0, failed: 0 };
      if (choice.mode !== 'migrate' || !live.version || !live.definition || !live.flow) return result;
      const m = {
        fromVersionId: live.version.id,
        toVersionId: published.versionId,
        from: live.definition,
        to: def,
        fromNumber: live.version.version,
        toNumber: published.version,
        workflowId: live.flow.id,
        slug,
        mapping: choice.mapping
      };
      // Keyset pages of ids, each page one transaction with a savepoint per lead: a lead that
      // cannot move (it was stepped meanwhile) rolls back alone and stays on the old version.
      for (let after = ''; ; ) {
        const page = await flowRuntimeRepo.activeIdsOnVersion(db, live.flow.id, live.version.id, after, MIGRATE_PAGE);
        if (!page.length) break;
        after = page[page.length - 1];
        const outcomes = await engine.executor.batch(page, (trx, id) => migrateOne(trx, id, m), async () => {
          result.failed++;
        });
        for (const o of outcomes) if (o === 'moved') result.moved++;
        else if (o === 'kept') result.kept++;
      }
      return result;
    },

    /** A version's definition, for "restore as draft" and exports. */
    async versionDefinition(slug: string, version: number): Promise<Workflow> {
      const flow = await workflowsRepo.findBySlug(db, slug);
      if (!flow) throw new NotFoundError(`No workflow ${slug}`);
      const v = await flowRuntimeRepo.versionByNumber(db, flow.id, version);
      if (!v) throw new NotFoundError(`No version ${version} of ${slug}`);
      return JSON.parse(v.definition) as Workflow;
    }
  };
}

/** A validator problem as one line for an API caller: its code in words and its details. */
function problemText(p: CheckProblem): string {
  const details = Object.entries(p.params).map(([k, v]) => `${k} ${v}`).join(', ');
  return `${p.code.replace(/_/g, ' ')}${details ? ` (${details})` : ''}`;
}

/** A removed node's first successor that the new version still has, else the new start. */
function suggestTarget(live: Workflow, next: Workflow, removed: string): string {
  const seen = new Set<string>();
  const queue = [removed];
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (id !== removed && next.nodes[id]) return id;
    const n = live.nodes[id];
    if (n) queue.push(...nextOf(n));
  }
  return next.start;
}

export type WorkflowPublish = ReturnType<typeof createWorkflowPublish>;
