import type { NodeKind, WorkflowInput } from '$lib/shared/workflow';

/**
 * The designer edits a draft, which may be half-built: a node just dropped on the canvas has no
 * `next` yet. So draft nodes are the schema's nodes with every edge optional; the validator names
 * what is missing, and the canvas draws an open handle.
 */
export type StepNode = WorkflowInput['nodes'][string];
type DraftNode = StepNode & Record<string, unknown>;
export type DraftWorkflow = WorkflowInput;

export const NODE_KINDS: NodeKind[] = [
  'send_email',
  'wait',
  'wait_until',
  'branch',
  'ab_split',
  'update_field',
  'adjust_score',
  'set_stage',
  'assign_owner',
  'notify',
  'webhook',
  'handoff',
  'goal',
  'exit'
];

/** One way out of a node: the handle id on the canvas and the node it leads to (if connected). */
export interface Exit {
  handle: string;
  next: string | undefined;
  /** What the exit means, for its label: a case label, a variant name, "event", "timeout". */
  kind: 'next' | 'event' | 'timeout' | 'case' | 'else' | 'variant';
  index?: number;
  label?: string;
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** The exits of a node in handle order; tolerant of half-built nodes. */
export function exitsOf(node: StepNode): Exit[] {
  const n = node as DraftNode;
  switch (node.kind) {
    case 'goal':
    case 'exit':
      return [];
    case 'wait_until':
      return [
        { handle: 'next', next: str(n.next), kind: 'event', label: node.eventType },
        { handle: 'timeoutNext', next: str(n.timeoutNext), kind: 'timeout' }
      ];
    case 'branch':
      return [
        ...(node.cases ?? []).map((c, i) => ({ handle: `case-${i}`, next: str(c.next), kind: 'case' as const, index: i, label: c.label })),
        { handle: 'else', next: str(n.elseNext), kind: 'else' }
      ];
    case 'ab_split':
      return (node.variants ?? []).map((v, i) => ({ handle: `variant-${i}`, next: str(v.next), kind: 'variant' as const, index: i, label: v.name }));
    default:
      return [{ handle: 'next', next: str(n.next), kind: 'next' }];
  }
}

/** The node with one exit pointed at `target` (or cut when `target` is undefined). */
export function withExit(node: StepNode, handle: string, target: string | undefined): StepNode {
  const copy = structuredClone(node) as DraftNode;
  const set = (o: Record<string, unknown>, key: string) => {
    if (target === undefined) delete o[key];
    else o[key] = target;
  };
  if (handle === 'next' || handle === 'timeoutNext') set(copy, handle);
  else if (handle === 'else') set(copy, 'elseNext');
  else if (handle.startsWith('case-') && copy.kind === 'branch') set(copy.cases[Number(handle.slice(5))] as Record<string, unknown>, 'next');
  else if (handle.startsWith('variant-') && copy.kind === 'ab_split') set(copy.variants[Number(handle.slice(8))] as Record<string, unknown>, 'next');
  return copy;
}

/** A fresh node of a kind with sensible settings, so it reads well the moment it lands. */
export function newNode(kind: NodeKind, templates: string[] = []): StepNode {
  const days = (amount: number) => ({ amount, unit: 'days' as const });
  const byKind: Record<NodeKind, Record<string, unknown>> = {
    send_email: { template: templates[0] ?? '' },
    wait: { wait: { type: 'duration', duration: days(2) } },
    wait_until: { eventType: 'email_clicked', timeout: days(3) },
    branch: { cases: [{ label: '', condition: { kind: 'score', score: 'engagement', op: 'gte', value: 40 } }] },
    ab_split: { variants: [{ name: 'A', weight: 50 }, { name: 'B', weight: 50 }] },
    update_field: { field: 'company', value: '' },
    adjust_score: { score: 'engagement', points: 10 },
    set_stage: { stage: 'mql' },
    assign_owner: { strategy: 'round_robin' },
    notify: { to: 'owner', message: 'New lead to look at' },
    webhook: { url: 'https://example.com/hook' },
    handoff: {},
    goal: { goal: '' },
    exit: {}
  };
  const n = { kind, ...byKind[kind] } as Record<string, unknown>;
  if (kind === 'branch') delete (n.cases as Record<string, unknown>[])[0].label;
  return n as unknown as StepNode;
}

/** An id not yet used in the flow: `send_email_3`. */
export function freshId(kind: NodeKind, taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let i = 1; ; i++) if (!used.has(`${kind}_${i}`)) return `${kind}_${i}`;
}

/** The flow with one node added (and, when `from` is given, wired from its first open exit). */
export function addNode(wf: DraftWorkflow, kind: NodeKind, at: { x: number; y: number }, opts: { templates?: string[]; from?: string } = {}): { wf: DraftWorkflow; id: string } {
  const id = freshId(kind, Object.keys(wf.nodes));
  const node = { ...newNode(kind, opts.templates), position: at } as StepNode;
  let nodes = { ...wf.nodes, [id]: node };
  if (opts.from && nodes[opts.from]) {
    const open = exitsOf(nodes[opts.from]).find((e) => !e.next);
    if (open) nodes = { ...nodes, [opts.from]: withExit(nodes[opts.from], open.handle, id) };
  }
  const start = wf.nodes[wf.start] ? wf.start : Object.keys(wf.nodes).length === 0 ? id : wf.start;
  return { wf: { ...wf, nodes, start }, id };
}

/** The flow without some nodes; exits that led to them become open handles. */
export function removeNodes(wf: DraftWorkflow, ids: string[]): DraftWorkflow {
  const gone = new Set(ids);
  const nodes: Record<string, StepNode> = {};
  for (const [id, node] of Object.entries(wf.nodes)) {
    if (gone.has(id)) continue;
    let n = node;
    for (const e of exitsOf(node)) if (e.next && gone.has(e.next)) n = withExit(n, e.handle, undefined);
    nodes[id] = n;
  }
  const start = nodes[wf.start] ? wf.start : (Object.keys(nodes)[0] ?? wf.start);
  return { ...wf, nodes, start };
}

export function connect(wf: DraftWorkflow, source: string, handle: string, target: string | undefined): DraftWorkflow {
  const node = wf.nodes[source];
  if (!node) return wf;
  return { ...wf, nodes: { ...wf.nodes, [source]: withExit(node, handle, target) } };
}

export function moveNodes(wf: DraftWorkflow, positions: Record<string, { x: number; y: number }>): DraftWorkflow {
  const nodes = { ...wf.nodes };
  for (const [id, p] of Object.entries(positions)) if (nodes[id]) nodes[id] = { ...nodes[id], position: { x: Math.round(p.x), y: Math.round(p.y) } };
  return { ...wf, nodes };
}

/**
 * A copied selection: the nodes with edges between them kept and edges leaving the selection cut,
 * so a paste never wires into nodes the reader did not copy.
 */
export function copySelection(wf: DraftWorkflow, ids: string[]): Record<string, StepNode> {
  const picked = new Set(ids.filter((id) => wf.nodes[id]));
  const out: Record<string, StepNode> = {};
  for (const id of picked) {
    let n = structuredClone(wf.nodes[id]);
    for (const e of exitsOf(n)) if (e.next && !picked.has(e.next)) n = withExit(n, e.handle, undefined);
    out[id] = n;
  }
  return out;
}

/** Pastes copied nodes under fresh ids, shifted so they do not sit on the originals. */
export function pasteNodes(wf: DraftWorkflow, clip: Record<string, StepNode>, offset = { x: 40, y: 40 }): { wf: DraftWorkflow; ids: string[] } {
  const taken = new Set(Object.keys(wf.nodes));
  const rename = new Map<string, string>();
  for (const [id, n] of Object.entries(clip)) {
    const fresh = freshId(n.kind, taken);
    taken.add(fresh);
    rename.set(id, fresh);
  }
  const nodes = { ...wf.nodes };
  for (const [id, n] of Object.entries(clip)) {
    let copy = structuredClone(n);
    for (const e of exitsOf(copy)) if (e.next) copy = withExit(copy, e.handle, rename.get(e.next));
    const p = n.position ?? { x: 0, y: 0 };
    nodes[rename.get(id)!] = { ...copy, position: { x: p.x + offset.x, y: p.y + offset.y } };
  }
  const start = wf.nodes[wf.start] ? wf.start : ([...rename.values()][0] ?? wf.start);
  return { wf: { ...wf, nodes, start }, ids: [...rename.values()] };
}

/** Renames a node and every edge into it. */
export function renameNode(wf: DraftWorkflow, from: string, to: string): DraftWorkflow {
  if (from === to || !wf.nodes[from] || wf.nodes[to]) return wf;
  const nodes: Record<string, StepNode> = {};
  for (const [id, node] of Object.entries(wf.nodes)) {
    let n = node;
    for (const e of exitsOf(node)) if (e.next === from) n = withExit(n, e.handle, to);
    nodes[id === from ? to : id] = n;
  }
  return { ...wf, nodes, start: wf.start === from ? to : wf.start };
}
