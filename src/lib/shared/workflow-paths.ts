import { transition, type AnyStateMachine } from 'xstate';
import { getSimplePaths } from 'xstate/graph';
import { durationMs, workflowSchema, type Workflow, type WorkflowNode } from './workflow';

/**
 * Path analysis of a flow on its compiled XState machine, with `xstate/graph`: every distinct way
 * from the trigger to an end (goal or exit), with the emails sent on the way, the events the lead
 * did or did not do, and the time it takes, so the designer can print "a lead who never clicks
 * gets 4 emails over 16 days".
 *
 * The machine's guards read lead data the analysis does not have, so they are swapped (with
 * `machine.provide`) for guards that read a `route` carried on each event: which case of each
 * branch, which variant of each split. For every resting state the analysis offers one event per
 * way the following branches can go, and getSimplePaths walks them all. Flow-level goals are
 * taken as never met: a goal can end any path at any time, which the designer says once.
 *
 * The compiler is passed in (it lives with the engine) so this module stays isomorphic.
 */

export interface PathEngine {
  compile: (wf: Workflow) => AnyStateMachine;
  /** The action the compiler puts on every node's entry, with `params.nodeId`. */
  enterAction: string;
}

export interface FlowPath {
  /** Every node entered, in order. */
  nodes: string[];
  emails: { nodeId: string; template: string }[];
  /** Events the lead did (wait_until answered). */
  events: { nodeId: string; eventType: string }[];
  /** wait_until nodes where the lead did not act in time. */
  timeouts: string[];
  /** Which way each branch or split went: the case label, "else", or the variant name. */
  choices: { nodeId: string; option: string }[];
  /** Time the path takes when every awaited event comes at once and every timeout runs out. */
  totalMs: number;
  /** A wait until a date or a lead field: its length is not known ahead. */
  timeUnknown: boolean;
  end: { nodeId: string; kind: 'goal' | 'exit' };
}

export interface PathAnalysis {
  paths: FlowPath[];
  /** More distinct paths than are worth listing: the count, and none listed. */
  tooMany?: number;
  /** Why no analysis ran (the flow does not compile yet). */
  skipped?: string;
}

export const MAX_PATHS = 200;

type Route = Record<string, number>;
type Snap = ReturnType<AnyStateMachine['getInitialSnapshot']>;

/** The ways out of a node, as the compiler orders them. */
function optionsOf(n: WorkflowNode): { target: string; name: string }[] {
  if (n.kind === 'branch') return [...n.cases.map((c, i) => ({ target: c.next, name: c.label || `#${i + 1}` })), { target: n.elseNext, name: 'else' }];
  if (n.kind === 'ab_split') return n.variants.map((v) => ({ target: v.next, name: v.name }));
  return [];
}

const passesThrough = (n: WorkflowNode) => ['send_email', 'notify', 'webhook', 'handoff'].includes(n.kind);

/** Every way the eventless steps after `id` can go: one route per combination of branch choices met. */
function routesFrom(wf: Workflow, id: string, route: Route = {}, seen = new Set<string>()): Route[] {
  const n = wf.nodes[id];
  if (!n || seen.has(id)) return [route];
  const next = new Set(seen).add(id);
  const opts = optionsOf(n);
  if (opts.length) return opts.flatMap((o, i) => routesFrom(wf, o.target, { ...route, [id]: i }, next));
  if (passesThrough(n)) return routesFrom(wf, (n as { next: string }).next, route, next);
  return [route];
}

/** How many distinct start-to-end paths there are, counted before listing them (loops cut). */
export function countPaths(wf: Workflow): number {
  const memo = new Map<string, number>();
  const onStack = new Set<string>();
  const count = (id: string): number => {
    const n = wf.nodes[id];
    if (!n || onStack.has(id)) return 0;
    if (memo.has(id)) return memo.get(id)!;
    if (n.kind === 'goal' || n.kind === 'exit') return 1;
    onStack.add(id);
    const outs = n.kind === 'branch' || n.kind === 'ab_split' ? optionsOf(n).map((o) => o.target) : n.kind === 'wait_until' ? [n.next, n.timeoutNext] : [(n as { next: string }).next];
    const total = Math.min(1e9, outs.reduce((s, o) => s + count(o), 0));
    onStack.delete(id);
    memo.set(id, total);
    return total;
  };
  return count(wf.start);
}

export function analysePaths(raw: unknown, engine: PathEngine): PathAnalysis {
  const parsed = workflowSchema.safeParse(raw);
  if (!parsed.success) return { paths: [], skipped: 'schema' };
  const wf = parsed.data;
  let machine: AnyStateMachine;
  try {
    machine = engine.compile(wf);
  } catch (e) {
    return { paths: [], skipped: e instanceof Error ? e.message : String(e) };
  }
  const total = countPaths(wf);
  if (total > MAX_PATHS) return { paths: [], tooMany: total };

  // Branch case conditions are known by identity: the compiler passes them to guards as they are.
  const caseOf = new Map<unknown, { nodeId: string; index: number }>();
  const variantStart = new Map<string, number[]>();
  for (const [id, n] of Object.entries(wf.nodes)) {
    if (n.kind === 'branch') n.cases.forEach((c, index) => caseOf.set(c.condition, { nodeId: id, index }));
    if (n.kind === 'ab_split') {
      let from = 0;
      variantStart.set(id, n.variants.map((v) => ((from += v.weight), from - v.weight)));
    }
  }
  type Ev = { type: string; route?: Route };
  const routed = machine.provide({
    guards: {
      condition: ({ event }: { event: Ev }, params: { condition: unknown }) => {
        const at = caseOf.get(params.condition);
        return !!at && event.route?.[at.nodeId] === at.index;
      },
      inBucket: ({ event }: { event: Ev }, params: { nodeId: string; from: number }) => variantStart.get(params.nodeId)?.[event.route?.[params.nodeId] ?? -1] === params.from,
      propertiesMatch: () => true
    } as never
  }) as AnyStateMachine;

  /** Events a resting state answers, one per route the steps after it can take. */
  const eventsOf = (snap: Snap): Ev[] => {
    const out: Ev[] = [];
    for (const node of (snap as unknown as { _nodes: { transitions: Map<string, { target?: { key: string }[] }[]> }[] })._nodes) {
      for (const [type, ts] of node.transitions) {
        const target = ts[0]?.target?.[0]?.key;
        if (!target || type === '*') continue;
        for (const route of routesFrom(wf, target)) out.push({ type, route, now: 0, properties: {} } as Ev);
      }
    }
    return out;
  };

  const input = { instanceId: 'path', leadId: 'path', workflowId: 'path', versionId: 'path' };
  const found = getSimplePaths(routed, { input, events: eventsOf as never, serializeEvent: (e: unknown) => JSON.stringify(e) } as never) as unknown as {
    state: Snap;
    steps: { state: Snap; event: Ev }[];
  }[];

  const seen = new Set<string>();
  const paths: FlowPath[] = [];
  for (const p of found) {
    if (p.state.status !== 'done') continue;
    const path = describe(wf, routed, p.steps, engine.enterAction);
    const key = JSON.stringify([path.nodes, path.events, path.timeouts]);
    if (seen.has(key)) continue;
    seen.add(key);
    paths.push(path);
  }
  // Fewest emails and shortest first: the plain story before its variations.
  paths.sort((a, b) => a.nodes.length - b.nodes.length || a.totalMs - b.totalMs);
  return { paths };
}

/**
 * Replays a path on the machine to read which nodes it entered and what each waited for. A graph
 * step is the state an event led to, so each event is replayed from the step before it.
 */
function describe(wf: Workflow, machine: AnyStateMachine, steps: { state: Snap; event: { type: string; route?: Route } }[], enterAction: string): FlowPath {
  const path: FlowPath = { nodes: [], emails: [], events: [], timeouts: [], choices: [], totalMs: 0, timeUnknown: false, end: { nodeId: '', kind: 'exit' } };
  for (let i = 1; i < steps.length; i++) {
    const step = { state: steps[i - 1].state, event: steps[i].event };
    const resting = String(step.state.value);
    const waitNode = wf.nodes[resting];
    if (waitNode?.kind === 'wait') {
      if (waitNode.wait.type === 'duration') path.totalMs += durationMs(waitNode.wait.duration);
      else path.timeUnknown = true;
    } else if (waitNode?.kind === 'wait_until') {
      if (step.event.type === waitNode.eventType) path.events.push({ nodeId: resting, eventType: waitNode.eventType });
      else {
        path.timeouts.push(resting);
        path.totalMs += durationMs(waitNode.timeout);
      }
    }
    const [, actions] = transition(machine, step.state, step.event as never);
    for (const a of actions as { type: string; params?: { nodeId?: string } }[]) {
      const id = a.type === enterAction ? a.params?.nodeId : undefined;
      const n = id ? wf.nodes[id] : undefined;
      if (!id || !n) continue;
      path.nodes.push(id);
      if (n.kind === 'send_email') path.emails.push({ nodeId: id, template: n.template });
      const opts = optionsOf(n);
      if (opts.length) path.choices.push({ nodeId: id, option: opts[step.event.route?.[id] ?? 0]?.name ?? '' });
      if (n.kind === 'goal' || n.kind === 'exit') path.end = { nodeId: id, kind: n.kind };
    }
  }
  return path;
}
