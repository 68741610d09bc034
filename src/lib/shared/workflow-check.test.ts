import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWorkflow, blocking, problemsByNode, type CheckProblem } from './workflow-check';
import { checkGraph } from '../server/engine/graph-check';
import { workflowSchema, type WorkflowInput } from './workflow';

const base: WorkflowInput = {
  slug: 'drip',
  name: 'Drip',
  trigger: { type: 'lead_created' },
  goals: [{ id: 'customer', name: 'Became a customer', condition: { kind: 'stage', op: 'is', value: 'customer' } }],
  start: 'e1',
  nodes: {
    e1: { kind: 'send_email', template: 'one', next: 'click' },
    click: { kind: 'wait_until', eventType: 'email_clicked', timeout: { amount: 3, unit: 'days' }, next: 'e2', timeoutNext: 'done' },
    e2: { kind: 'send_email', template: 'two', next: 'done' },
    done: { kind: 'exit' }
  }
};
const templates = [{ name: 'one' }, { name: 'two' }];
const codes = (ps: CheckProblem[]) => ps.map((p) => `${p.code}@${p.nodeId ?? ''}`).sort();
const withNodes = (nodes: Record<string, unknown>, extra: Partial<WorkflowInput> = {}) => ({ ...base, ...extra, nodes: { ...base.nodes, ...nodes } }) as WorkflowInput;

describe('checkWorkflow', () => {
  it('a sound drip has no problems', () => {
    expect(checkWorkflow(base, { templates })).toEqual([]);
  });

  it('every shipped flow passes, and agrees with the engine that it compiles', () => {
    for (const slug of fs.readdirSync('workflows').filter((f) => fs.existsSync(path.join('workflows', f, 'workflow.json')))) {
      const def = JSON.parse(fs.readFileSync(path.join('workflows', slug, 'workflow.json'), 'utf8'));
      expect(blocking(checkWorkflow(def)), slug).toEqual([]);
      expect(checkGraph(workflowSchema.parse(def)), slug).toEqual([]);
    }
  });

  it('an exit left open is "unconnected" on its node (not a schema error)', () => {
    const ps = checkWorkflow(withNodes({ e2: { kind: 'send_email', template: 'two' } }), { templates });
    expect(codes(ps)).toEqual(['unconnected@e2']);
    expect(ps[0].path).toBe('nodes.e2.next');
  });

  it('an edge to a node that does not exist is dangling', () => {
    const ps = checkWorkflow(withNodes({ e2: { kind: 'send_email', template: 'two', next: 'ghost' } }), { templates });
    expect(codes(ps)).toEqual(['dangling_edge@e2']);
    expect(ps[0].params.target).toBe('ghost');
  });

  it('a node no path reaches is a warning, not a blocker', () => {
    const ps = checkWorkflow(withNodes({ lost: { kind: 'exit' } }), { templates });
    expect(codes(ps)).toEqual(['unreachable@lost']);
    expect(blocking(ps)).toEqual([]);
  });

  it('a closed loop that never reaches an end, with a wait in it', () => {
    const ps = checkWorkflow(
      withNodes({
        e2: { kind: 'send_email', template: 'two', next: 'pause' },
        pause: { kind: 'wait', wait: { type: 'duration', duration: { amount: 1, unit: 'days' } }, next: 'e2' }
      }),
      { templates }
    );
    expect(codes(ps)).toEqual(['no_end@e2', 'no_end@pause']);
  });

  it('a loop without a wait', () => {
    const ps = checkWorkflow(
      withNodes({
        e2: { kind: 'send_email', template: 'two', next: 'b' },
        b: { kind: 'branch', cases: [{ condition: { kind: 'score', score: 'fit', op: 'gt', value: 10 }, next: 'done' }], elseNext: 'e2' }
      }),
      { templates }
    );
    expect(codes(ps)).toContain('loop_without_wait@e2');
  });

  it('a wait-until without a timeout', () => {
    const ps = checkWorkflow(withNodes({ click: { kind: 'wait_until', eventType: 'email_clicked', timeout: { amount: 0, unit: 'days' }, next: 'e2', timeoutNext: 'done' } }), { templates });
    expect(codes(ps)).toEqual(['wait_until_no_timeout@click']);
  });

  it('a missing template and a template whose Liquid does not compile', () => {
    const ps = checkWorkflow(base, { templates: [{ name: 'one', error: 'line 1: unclosed tag' }] });
    expect(codes(ps)).toEqual(['broken_template@e1', 'missing_template@e2']);
    expect(ps.find((p) => p.code === 'broken_template')!.params.error).toMatch(/unclosed/);
  });

  it('an email after a step that meets a goal is unreachable', () => {
    const ps = checkWorkflow(
      withNodes({
        e1: { kind: 'set_stage', stage: 'customer', next: 'e2' },
        e2: { kind: 'send_email', template: 'two', next: 'done' }
      }),
      { templates }
    );
    expect(codes(ps)).toContain('email_after_goal@e2');
    expect(codes(ps)).toContain('unreachable@click');
  });

  it('schema errors carry their path and node', () => {
    const ps = checkWorkflow(withNodes({ e1: { kind: 'send_email', template: 'one', next: 'click', onCap: 'sometimes' } }), { templates });
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ code: 'schema', nodeId: 'e1', path: 'nodes.e1.onCap', severity: 'error' });
    expect(codes(checkWorkflow({ ...base, slug: 'Bad Slug' }, { templates }))).toEqual(['schema@']);
  });

  it('an empty flow says to add a step; a missing start is named', () => {
    expect(codes(checkWorkflow({ ...base, nodes: {}, start: '' }))).toEqual(['no_nodes@']);
    expect(codes(checkWorkflow({ ...base, start: 'nope' }, { templates }))).toContain('missing_start@');
  });

  it('problemsByNode groups for the canvas', () => {
    const ps = checkWorkflow(withNodes({ e2: { kind: 'send_email', template: 'zzz' } }), { templates });
    expect(problemsByNode(ps).get('e2')!.map((p) => p.code).sort()).toEqual(['missing_template', 'unconnected']);
  });

  it('never throws on junk', () => {
    for (const junk of [null, 1, 'x', [], { nodes: 5 }, { nodes: { a: null } }, { nodes: { a: { kind: 'branch', cases: 'no' } }, start: 'a' }]) expect(() => checkWorkflow(junk)).not.toThrow();
  });
});

describe('checkWorkflow while a flow is being drawn', () => {
  it('a chain that ends in an open exit reports only that exit, not "never ends" up the chain', () => {
    const ps = checkWorkflow(
      withNodes({
        e2: { kind: 'send_email', template: 'two', next: 'pause' },
        pause: { kind: 'wait', wait: { type: 'duration', duration: { amount: 1, unit: 'days' } }, next: 'e3' },
        e3: { kind: 'send_email', template: 'one' }
      }),
      { templates }
    );
    expect(codes(ps)).toEqual(['unconnected@e3']);
  });
});
