import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkflowInput } from '../../shared/workflow';
import { addNode, connect, copySelection, exitsOf, pasteNodes, removeNodes } from './model';
import { NODE_WIDTH, nodeHeight, tidyLayout } from './layout';

const shipped = () =>
  fs
    .readdirSync('workflows')
    .filter((f) => fs.existsSync(path.join('workflows', f, 'workflow.json')))
    .map((f) => JSON.parse(fs.readFileSync(path.join('workflows', f, 'workflow.json'), 'utf8')) as WorkflowInput);

const empty: WorkflowInput = { slug: 'x-flow', name: 'X', trigger: { type: 'manual' }, start: '', nodes: {} };

describe('designer model', () => {
  it('the first node becomes the start; a node added after another is wired from its first open exit', () => {
    const a = addNode(empty, 'send_email', { x: 0, y: 0 }, { templates: ['hello'] });
    expect(a.wf.start).toBe('send_email_1');
    expect(a.wf.nodes.send_email_1).toMatchObject({ kind: 'send_email', template: 'hello' });
    const b = addNode(a.wf, 'wait_until', { x: 0, y: 200 }, { from: a.id });
    const c = addNode(b.wf, 'exit', { x: 0, y: 400 }, { from: b.id });
    const d = addNode(c.wf, 'exit', { x: 300, y: 400 }, { from: b.id });
    expect(exitsOf(d.wf.nodes.wait_until_1).map((e) => e.next)).toEqual(['exit_1', 'exit_2']);
    expect(exitsOf(d.wf.nodes.send_email_1)[0].next).toBe('wait_until_1');
  });

  it('removing a node opens the exits that led to it', () => {
    const a = addNode(empty, 'send_email', { x: 0, y: 0 });
    const b = addNode(a.wf, 'exit', { x: 0, y: 200 }, { from: a.id });
    const wf = removeNodes(b.wf, ['exit_1']);
    expect(exitsOf(wf.nodes.send_email_1)[0].next).toBeUndefined();
    expect(connect(wf, 'send_email_1', 'next', 'send_email_1').nodes.send_email_1).toMatchObject({ next: 'send_email_1' });
  });

  it('copy and paste keeps edges inside the selection, cuts those leaving it, and renames', () => {
    let wf = addNode(empty, 'send_email', { x: 0, y: 0 }).wf;
    wf = addNode(wf, 'wait', { x: 0, y: 200 }, { from: 'send_email_1' }).wf;
    wf = addNode(wf, 'exit', { x: 0, y: 400 }, { from: 'wait_1' }).wf;
    const clip = copySelection(wf, ['send_email_1', 'wait_1']);
    const pasted = pasteNodes(wf, clip);
    expect(pasted.ids.sort()).toEqual(['send_email_2', 'wait_2']);
    expect(pasted.wf.nodes.send_email_2).toMatchObject({ next: 'wait_2', position: { x: 40, y: 40 } });
    expect(exitsOf(pasted.wf.nodes.wait_2)[0].next).toBeUndefined();
    expect(pasted.wf.nodes.wait_1).toMatchObject({ next: 'exit_1' });
  });

  it('tidy layout: no two nodes of any shipped flow overlap', () => {
    for (const wf of shipped()) {
      const pos = tidyLayout(wf);
      const ids = Object.keys(wf.nodes);
      expect(Object.keys(pos).sort()).toEqual([...ids].sort());
      for (let i = 0; i < ids.length; i++)
        for (let j = i + 1; j < ids.length; j++) {
          const [p, q] = [pos[ids[i]], pos[ids[j]]];
          const overlap = p.x < q.x + NODE_WIDTH && q.x < p.x + NODE_WIDTH && p.y < q.y + nodeHeight(wf.nodes[ids[j]]) && q.y < p.y + nodeHeight(wf.nodes[ids[i]]);
          expect(overlap, `${wf.slug}: ${ids[i]} / ${ids[j]}`).toBe(false);
        }
    }
  });
});
