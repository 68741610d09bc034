import { setup, type AnyStateMachine } from 'xstate';
import { durationMs, type Workflow, type WorkflowNode, type WaitSpec } from '../../shared/workflow';
import { evaluate, propertiesMatch } from './conditions';
import { ENROLL_EVENT, type EngineEvent, type LeadFacts } from './facts';
import { checkGraph, type GraphProblem } from './graph-check';

export interface InstanceContext {
  instanceId: string;
  leadId: string;
  workflowId: string;
  versionId: string;
}

export class WorkflowCompileError extends Error {
  constructor(public readonly problems: GraphProblem[]) {
    super(problems.map((p) => p.message).join('; '));
  }
}

/** Effects leave the machine as this action; the executor turns each into an outbox row. */
export const EFFECT_ACTION = 'effect';
/** Every node entry is recorded on the instance's path and the lead's timeline. */
export const ENTER_ACTION = 'enter';
export const GOAL_STATE_PREFIX = '__goal__';
export const ENROLL_STATE = '__enrolling';

const EFFECT_KINDS = new Set(['send_email', 'update_field', 'adjust_score', 'set_stage', 'assign_owner', 'notify', 'webhook', 'handoff']);
/**
 * Effects on the lead's own data run inside the step's transaction, and the machine waits for
 * `wf.continue` (sent with fresh facts) before moving on, so a branch right after "add 30 points"
 * sees the 30 points. Effects that leave the process go through the outbox instead.
 */
export const INLINE_EFFECT_KINDS = new Set(['update_field', 'adjust_score', 'set_stage', 'assign_owner']);
export const CONTINUE_EVENT = 'wf.continue';

/** Stable 32-bit FNV-1a: the A/B bucket of an enrollment never changes across replays. */
export function bucketOf(key: string, modulo: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % modulo;
}

/** Milliseconds a wait node holds a lead, from the time and facts of the event that entered it. */
export function waitDelay(spec: WaitSpec, now: number, lead: LeadFacts | undefined): number {
  switch (spec.type) {
    case 'duration':
      return durationMs(spec.duration);
    case 'until_date':
      return Math.max(0, Date.parse(spec.date) - now);
    case 'until_field': {
      const raw = lead?.fields[spec.field];
      const at = typeof raw === 'number' ? raw : typeof raw === 'string' ? Date.parse(raw) : NaN;
      // No usable date: do not hold the lead forever; move on now.
      if (!Number.isFinite(at)) return 0;
      const offset = spec.offset ? durationMs({ amount: Math.abs(spec.offset.amount), unit: spec.offset.unit }) * Math.sign(spec.offset.amount) : 0;
      return Math.max(0, at + offset - now);
    }
  }
}

export const delayName = (nodeId: string) => `d_${nodeId}`;

function stateFor(id: string, node: WorkflowNode): Record<string, unknown> {
  const enter = { type: ENTER_ACTION, params: { nodeId: id, kind: node.kind } };
  switch (node.kind) {
    case 'wait':
      return { entry: [enter], after: { [delayName(id)]: node.next } };
    case 'wait_until':
      return {
        entry: [enter],
        on: { [node.eventType]: { guard: { type: 'propertiesMatch', params: { filter: node.filter ?? null } }, target: node.next } },
        after: { [delayName(id)]: node.timeoutNext }
      };
    case 'branch':
      return {
        entry: [enter],
        always: [...node.cases.map((c) => ({ guard: { type: 'condition', params: { condition: c.condition } }, target: c.next })), { target: node.elseNext }]
      };
    case 'ab_split': {
      const total = node.variants.reduce((s, v) => s + v.weight, 0);
      let from = 0;
      return {
        entry: [enter],
        always: node.variants.map((v) => {
          const t = { guard: { type: 'inBucket', params: { nodeId: id, from, to: from + v.weight, total } }, target: v.next };
          from += v.weight;
          return t;
        })
      };
    }
    case 'goal':
    case 'exit':
      return { type: 'final', entry: [enter] };
    default: {
      if (!EFFECT_KINDS.has(node.kind)) throw new Error(`unknown node kind ${(node as WorkflowNode).kind}`);
      const { label: _l, position: _p, next, ...params } = node as WorkflowNode & { next: string };
      const entry = [enter, { type: EFFECT_ACTION, params: { nodeId: id, ...params } }];
      return INLINE_EFFECT_KINDS.has(node.kind) ? { entry, on: { [CONTINUE_EVENT]: next } } : { entry, always: next };
    }
  }
}

/**
 * Turns a published workflow into an XState machine: a state per node, `after` for waits,
 * `on` for awaited events, guarded eventless transitions for branches and splits, and entry
 * actions with params for every effect. The machine is never run as a live actor; the executor
 * feeds it one event at a time with `transition()`.
 */
export function compileWorkflow(wf: Workflow): AnyStateMachine {
  const problems = checkGraph(wf);
  if (problems.length) throw new WorkflowCompileError(problems);

  const delays: Record<string, (args: { event: EngineEvent }) => number> = {};
  for (const [id, node] of Object.entries(wf.nodes)) {
    if (node.kind === 'wait') delays[delayName(id)] = ({ event }) => waitDelay(node.wait, event.now, event.lead);
    if (node.kind === 'wait_until') delays[delayName(id)] = () => durationMs(node.timeout);
  }

  const states: Record<string, unknown> = {
    [ENROLL_STATE]: { on: { [ENROLL_EVENT]: wf.start } }
  };
  for (const [id, node] of Object.entries(wf.nodes)) states[id] = stateFor(id, node);
  for (const g of wf.goals) states[`${GOAL_STATE_PREFIX}${g.id}`] = { type: 'final', entry: [{ type: ENTER_ACTION, params: { nodeId: `${GOAL_STATE_PREFIX}${g.id}`, kind: 'goal', goal: g.name } }] };

  return setup({
    types: { context: {} as InstanceContext, events: {} as EngineEvent, input: {} as InstanceContext },
    actions: { [EFFECT_ACTION]: () => {}, [ENTER_ACTION]: () => {} },
    guards: {
      condition: ({ event }, params: { condition: Parameters<typeof evaluate>[0] }) => evaluate(params.condition, event.lead, event.now),
      propertiesMatch: ({ event }, params: { filter: Record<string, unknown> | null }) => propertiesMatch(event.properties, params.filter ?? undefined),
      inBucket: ({ context }, params: { nodeId: string; from: number; to: number; total: number }) => {
        const b = bucketOf(`${context.instanceId}:${params.nodeId}`, params.total);
        return b >= params.from && b < params.to;
      }
    },
    delays: delays as never
  }).createMachine({
    id: 'wf',
    context: ({ input }) => input,
    initial: ENROLL_STATE,
    // Goals are checked after every event: a lead that meets one leaves the flow at once.
    always: wf.goals.map((g) => ({ guard: { type: 'condition', params: { condition: g.condition } }, target: `.${GOAL_STATE_PREFIX}${g.id}` })),
    states: states as never
  }) as unknown as AnyStateMachine;
}
