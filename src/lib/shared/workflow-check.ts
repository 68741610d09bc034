import { isWaiting, workflowSchema, type Condition, type WorkflowInput, type WorkflowNode } from './workflow';

/**
 * The designer's live validator: pure and isomorphic, so the browser runs it on every edit and
 * the server runs the same code before a publish. It reads a draft that may be half-built (nodes
 * without edges yet) and names every problem with the node it belongs to, so the canvas can mark
 * the node and the problems panel can say what to do.
 */

export type ProblemCode =
  | 'schema'
  | 'no_nodes'
  | 'missing_start'
  | 'unconnected'
  | 'dangling_edge'
  | 'unreachable'
  | 'no_end'
  | 'loop_without_wait'
  | 'wait_until_no_timeout'
  | 'missing_template'
  | 'broken_template'
  | 'email_after_goal';

export interface CheckProblem {
  nodeId?: string;
  /** Where in the definition, dotted: `nodes.welcome.template`, `trigger.eventType`. */
  path: string;
  code: ProblemCode;
  /** Errors block publishing; warnings are shown but do not. */
  severity: 'error' | 'warning';
  params: Record<string, string | number>;
}

/** A template the flow may send, with whether its Liquid compiles (the server passes real results). */
export interface TemplateStatus {
  name: string;
  error?: string | null;
}

export interface CheckInput {
  /** Known templates; when omitted, templates are not checked (nothing to check against). */
  templates?: TemplateStatus[];
}

const WARNINGS = new Set<ProblemCode>(['unreachable']);
const problem = (code: ProblemCode, path: string, params: Record<string, string | number> = {}, nodeId?: string): CheckProblem => ({
  code,
  path,
  params,
  nodeId,
  severity: WARNINGS.has(code) ? 'warning' : 'error'
});

type Loose = Record<string, unknown>;
const isObj = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The named edge fields of a (possibly half-built) node, with their paths; empty when absent. */
function edgesOf(node: Loose): { path: string; next: string | undefined }[] {
  const s = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const arr = (v: unknown) => (Array.isArray(v) ? (v as unknown[]).filter(isObj) : []);
  switch (node.kind) {
    case 'goal':
    case 'exit':
      return [];
    case 'wait_until':
      return [
        { path: 'next', next: s(node.next) },
        { path: 'timeoutNext', next: s(node.timeoutNext) }
      ];
    case 'branch':
      return [...arr(node.cases).map((c, i) => ({ path: `cases.${i}.next`, next: s(c.next) })), { path: 'elseNext', next: s(node.elseNext) }];
    case 'ab_split':
      return arr(node.variants).map((v, i) => ({ path: `variants.${i}.next`, next: s(v.next) }));
    default:
      return [{ path: 'next', next: s(node.next) }];
  }
}

const EDGE_KEY = /^(next|timeoutNext|elseNext)$/;

/** Schema issues, except a missing edge: that one is reported once, as `unconnected`. */
function schemaProblems(def: unknown, nodes: Record<string, Loose>): CheckProblem[] {
  const parsed = workflowSchema.safeParse(def);
  if (parsed.success) return [];
  const out: CheckProblem[] = [];
  for (const issue of parsed.error.issues) {
    const path = issue.path.map(String);
    const nodeId = path[0] === 'nodes' && path[1] && nodes[path[1]] ? path[1] : undefined;
    const last = path[path.length - 1];
    const missingEdge = nodeId && EDGE_KEY.test(last ?? '') && edgesOf(nodes[nodeId]).some((e) => `nodes.${nodeId}.${e.path}` === path.join('.') && !e.next);
    if (missingEdge) continue;
    out.push(problem('schema', path.join('.'), { message: issue.message }, nodeId));
  }
  return out;
}

/** Would meeting this flow-level goal be certain once the node has run? (stage and field goals) */
function nodeMeetsGoal(node: Loose, c: Condition): boolean {
  if (c.kind === 'any') return c.conditions.some((x) => nodeMeetsGoal(node, x));
  if (c.kind === 'all') return c.conditions.length === 1 && nodeMeetsGoal(node, c.conditions[0]);
  if (c.kind === 'stage' && node.kind === 'set_stage' && typeof node.stage === 'string') {
    const values = Array.isArray(c.value) ? c.value : [c.value];
    return c.op === 'is_not' ? !values.includes(node.stage as never) : values.includes(node.stage as never);
  }
  if (c.kind === 'field' && node.kind === 'update_field' && node.field === c.field) {
    if (c.op === 'eq') return node.value === c.value;
    if (c.op === 'exists') return node.value !== null && node.value !== '';
  }
  return false;
}

export function checkWorkflow(def: WorkflowInput | unknown, input: CheckInput = {}): CheckProblem[] {
  if (!isObj(def)) return [problem('schema', '', { message: 'not an object' })];
  const nodes: Record<string, Loose> = isObj(def.nodes) ? Object.fromEntries(Object.entries(def.nodes).filter(([, n]) => isObj(n))) as Record<string, Loose> : {};
  const ids = Object.keys(nodes);
  const start = typeof def.start === 'string' ? def.start : '';
  const out: CheckProblem[] = schemaProblems(def, nodes);

  if (ids.length === 0) return [...out.filter((p) => p.path !== 'start'), problem('no_nodes', 'nodes')];
  if (!nodes[start]) out.push(problem('missing_start', 'start', { start }));

  // Edges: each exit must be connected, and to a node that exists.
  const succ = new Map<string, string[]>();
  for (const id of ids) {
    const edges = edgesOf(nodes[id]);
    succ.set(id, edges.map((e) => e.next).filter((n): n is string => !!n && !!nodes[n]));
    for (const e of edges) {
      if (!e.next) out.push(problem('unconnected', `nodes.${id}.${e.path}`, { exit: e.path }, id));
      else if (!nodes[e.next]) out.push(problem('dangling_edge', `nodes.${id}.${e.path}`, { target: e.next }, id));
    }
  }

  // Reachability from the start.
  const reached = new Set<string>();
  const stack = nodes[start] ? [start] : [];
  while (stack.length) {
    const id = stack.pop()!;
    if (reached.has(id)) continue;
    reached.add(id);
    stack.push(...succ.get(id)!);
  }
  for (const id of ids) if (nodes[start] && !reached.has(id)) out.push(problem('unreachable', `nodes.${id}`, {}, id));

  // Paths that never end: a reachable node from which no goal or exit can be reached. A node
  // that leads on to an open exit is still being drawn: that exit is reported, not this.
  const backwardsFrom = (seed: string[]) => {
    const set = new Set(seed);
    for (let changed = true; changed; ) {
      changed = false;
      for (const id of ids) {
        if (set.has(id) || !succ.get(id)!.some((n) => set.has(n))) continue;
        set.add(id);
        changed = true;
      }
    }
    return set;
  };
  const canEnd = backwardsFrom(ids.filter((id) => nodes[id].kind === 'goal' || nodes[id].kind === 'exit'));
  const unfinished = backwardsFrom(ids.filter((id) => edgesOf(nodes[id]).some((e) => !e.next || !nodes[e.next])));
  for (const id of ids) if (reached.has(id) && !canEnd.has(id) && !unfinished.has(id)) out.push(problem('no_end', `nodes.${id}`, {}, id));

  // Loops without a wait: a cycle among nodes that let no time pass would spin in one step.
  const waits = (id: string) => isWaiting(nodes[id] as unknown as WorkflowNode);
  const colour = new Map<string, 1 | 2>();
  const loops = new Set<string>();
  const visit = (id: string, trail: string[]) => {
    if (waits(id)) return;
    colour.set(id, 1);
    for (const n of succ.get(id)!) {
      if (colour.get(n) === 1 && !loops.has(n)) {
        loops.add(n);
        out.push(problem('loop_without_wait', `nodes.${n}`, { loop: [...trail.slice(trail.indexOf(n)), id, n].join(' → ') }, n));
      } else if (!colour.has(n)) visit(n, [...trail, id]);
    }
    colour.set(id, 2);
  };
  for (const id of ids) if (!colour.has(id)) visit(id, []);

  // Per-node checks.
  const known = input.templates ? new Map(input.templates.map((t) => [t.name, t])) : null;
  for (const id of ids) {
    const n = nodes[id];
    if (n.kind === 'wait_until') {
      const t = n.timeout as Loose | undefined;
      if (!isObj(t) || typeof t.amount !== 'number' || t.amount <= 0) out.push(problem('wait_until_no_timeout', `nodes.${id}.timeout`, {}, id));
    }
    if (n.kind === 'send_email' && known && typeof n.template === 'string' && n.template) {
      const t = known.get(n.template);
      if (!t) out.push(problem('missing_template', `nodes.${id}.template`, { template: n.template }, id));
      else if (t.error) out.push(problem('broken_template', `nodes.${id}.template`, { template: n.template, error: t.error }, id));
    }
  }

  // Emails after a step that certainly meets a goal: the lead leaves the flow before them.
  const goals = Array.isArray(def.goals) ? (def.goals as Loose[]).filter((g) => isObj(g.condition)) : [];
  for (const id of ids) {
    const goal = goals.find((g) => nodeMeetsGoal(nodes[id], g.condition as Condition));
    if (!goal) continue;
    const seen = new Set<string>();
    const todo = [...succ.get(id)!];
    while (todo.length) {
      const n = todo.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      if (nodes[n].kind === 'send_email') out.push(problem('email_after_goal', `nodes.${n}`, { goal: String(goal.name ?? goal.id), after: id }, n));
      todo.push(...succ.get(n)!);
    }
  }
  return out;
}

/** Problems that stop a publish. */
export const blocking = (problems: CheckProblem[]) => problems.filter((p) => p.severity === 'error');

/** The problems on each node, for marking the canvas. */
export function problemsByNode(problems: CheckProblem[]): Map<string, CheckProblem[]> {
  const map = new Map<string, CheckProblem[]>();
  for (const p of problems) if (p.nodeId) map.set(p.nodeId, [...(map.get(p.nodeId) ?? []), p]);
  return map;
}
