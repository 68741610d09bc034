import { isWaiting, nextOf, type Workflow } from '../../shared/workflow';

export interface GraphProblem {
  nodeId: string | null;
  path: string;
  message: string;
}

/**
 * Refuses graphs the engine cannot run: a missing start, an edge to a node that does not exist,
 * or a loop with no wait in it (which would spin forever inside one transaction).
 */
export function checkGraph(wf: Workflow): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const ids = new Set(Object.keys(wf.nodes));
  if (!ids.has(wf.start)) problems.push({ nodeId: null, path: 'start', message: `start node "${wf.start}" does not exist` });
  for (const [id, node] of Object.entries(wf.nodes)) {
    for (const next of nextOf(node)) {
      if (!ids.has(next)) problems.push({ nodeId: id, path: `nodes.${id}`, message: `node "${id}" leads to "${next}", which does not exist` });
    }
  }
  for (const g of wf.goals) if (ids.has(`__goal__${g.id}`)) problems.push({ nodeId: null, path: 'goals', message: `goal id ${g.id} clashes with a node` });

  // A cycle among nodes that do not wait: depth-first search with colours.
  const colour = new Map<string, 'grey' | 'black'>();
  const visit = (id: string, trail: string[]): void => {
    const node = wf.nodes[id];
    if (!node || isWaiting(node)) return;
    colour.set(id, 'grey');
    for (const next of nextOf(node)) {
      if (colour.get(next) === 'grey') {
        const loop = [...trail.slice(trail.indexOf(next)), id, next];
        problems.push({ nodeId: next, path: `nodes.${next}`, message: `loop without a wait: ${loop.join(' → ')}` });
      } else if (!colour.has(next)) visit(next, [...trail, id]);
    }
    colour.set(id, 'black');
  };
  for (const id of ids) if (!colour.has(id)) visit(id, []);
  return problems;
}

/** Nodes no path from the start reaches: not an error for the engine, a warning for the designer. */
export function unreachableNodes(wf: Workflow): string[] {
  const seen = new Set<string>();
  const stack = [wf.start];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || !wf.nodes[id]) continue;
    seen.add(id);
    stack.push(...nextOf(wf.nodes[id]));
  }
  return Object.keys(wf.nodes).filter((id) => !seen.has(id));
}
