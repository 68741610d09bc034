import type { WorkflowInput } from '$lib/shared/workflow';
import { exitsOf, type StepNode } from './model';

/** Sizes the canvas draws nodes at; the layout spaces by them so nodes never overlap. */
export const NODE_WIDTH = 240;
/** Space between layers (top to bottom) and between nodes side by side in a layer. */
export const LAYER_GAP = 56;
export const ROW_GAP = 60;

/** A node's drawn height: header, a two-line summary, one row per exit. */
export function nodeHeight(node: StepNode): number {
  return 78 + exitsOf(node).length * 24;
}

/**
 * A small layered layout, top to bottom (drips are long chains, and a column fits the canvas far
 * better than a row): each node sits one layer below the deepest node that leads to it (back
 * edges of loops ignored), nodes in a layer are ordered by where their parents sit (barycentre)
 * and spread side by side around them. Each layer is as tall as its tallest node. Unreachable
 * nodes get a row of their own below, so they stay visible and do not push the flow around.
 */
export function tidyLayout(wf: WorkflowInput): Record<string, { x: number; y: number }> {
  const ids = Object.keys(wf.nodes);
  const next = (id: string) => exitsOf(wf.nodes[id]).map((e) => e.next).filter((n): n is string => !!n && !!wf.nodes[n]);

  // Depth-first order from the start marks back edges (edges into a node still on the stack).
  const state = new Map<string, 'open' | 'done'>();
  const back = new Set<string>();
  const order: string[] = [];
  const visit = (root: string) => {
    const stack: { id: string; i: number }[] = [{ id: root, i: 0 }];
    state.set(root, 'open');
    while (stack.length) {
      const top = stack[stack.length - 1];
      const outs = next(top.id);
      if (top.i < outs.length) {
        const to = outs[top.i++];
        if (state.get(to) === 'open') back.add(`${top.id}>${to}`);
        else if (!state.has(to)) {
          state.set(to, 'open');
          stack.push({ id: to, i: 0 });
        }
      } else {
        state.set(top.id, 'done');
        order.push(top.id);
        stack.pop();
      }
    }
  };
  if (wf.nodes[wf.start]) visit(wf.start);
  const reachable = new Set(order);
  for (const id of ids) if (!state.has(id)) visit(id);

  // Longest-path layering over the forward edges, in topological (reverse post-) order.
  const layer = new Map<string, number>();
  const parents = new Map<string, string[]>();
  for (const id of [...order].reverse()) {
    if (!layer.has(id)) layer.set(id, 0);
    for (const to of next(id)) {
      if (back.has(`${id}>${to}`)) continue;
      layer.set(to, Math.max(layer.get(to) ?? 0, layer.get(id)! + 1));
      parents.set(to, [...(parents.get(to) ?? []), id]);
    }
  }

  const layers: string[][] = [];
  for (const id of [...order].reverse()) {
    const l = layer.get(id)!;
    (layers[l] ??= []).push(id);
  }

  const pos: Record<string, { x: number; y: number }> = {};
  const centre = new Map<string, number>();
  const step = NODE_WIDTH + ROW_GAP;
  let top = 0;
  for (let l = 0; l < layers.length; l++) {
    const group = (layers[l] ?? []).filter((id) => reachable.has(id));
    if (!group.length) continue;
    const wish = (id: string) => {
      const ps = (parents.get(id) ?? []).filter((p) => centre.has(p));
      return ps.length ? ps.reduce((s, p) => s + centre.get(p)!, 0) / ps.length : 0;
    };
    group.sort((a, b) => wish(a) - wish(b));
    // Spread the layer around its parents' average, never closer than a gap apart.
    const mid = group.reduce((s, id) => s + wish(id), 0) / group.length;
    let x = mid - ((group.length - 1) * step) / 2;
    let height = 0;
    for (const id of group) {
      pos[id] = { x: Math.round(x), y: top };
      centre.set(id, x);
      x += step;
      height = Math.max(height, nodeHeight(wf.nodes[id]));
    }
    top += height + LAYER_GAP;
  }

  // Nodes no path reaches: one row under the flow, left to right.
  let x = 0;
  for (const id of ids) {
    if (reachable.has(id)) continue;
    pos[id] = { x, y: top + LAYER_GAP };
    x += step;
  }
  return pos;
}

/** The nearest point at or right of `at` where a new node of `height` overlaps no other node. */
export function freeSpot(wf: WorkflowInput, at: { x: number; y: number }, height = 110): { x: number; y: number } {
  const boxes = Object.values(wf.nodes)
    .filter((n) => n.position)
    .map((n) => ({ x: n.position!.x, y: n.position!.y, h: nodeHeight(n) }));
  const clash = (x: number) => boxes.some((b) => x < b.x + NODE_WIDTH + 20 && b.x < x + NODE_WIDTH + 20 && at.y < b.y + b.h + 20 && b.y < at.y + height + 20);
  let x = at.x;
  for (let i = 0; i < 500 && clash(x); i++) x += 20;
  return { x, y: at.y };
}
