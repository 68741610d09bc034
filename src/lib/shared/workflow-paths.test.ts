import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileWorkflow, ENTER_ACTION } from '../server/engine/compiler';
import { analysePaths, countPaths, MAX_PATHS } from './workflow-paths';
import { workflowSchema, type WorkflowInput } from './workflow';

const engine = { compile: compileWorkflow, enterAction: ENTER_ACTION };
const shipped = (slug: string) => JSON.parse(fs.readFileSync(path.join('workflows', slug, 'workflow.json'), 'utf8')) as WorkflowInput;
const DAY = 86_400_000;

/** A three-email drip: email 1, wait for a click for 3 days, email 2 or a nudge, email 3. */
const drip: WorkflowInput = {
  slug: 'drip',
  name: 'Drip',
  trigger: { type: 'lead_created' },
  start: 'e1',
  nodes: {
    e1: { kind: 'send_email', template: 'one', next: 'click' },
    click: { kind: 'wait_until', eventType: 'email_clicked', timeout: { amount: 3, unit: 'days' }, next: 'e2', timeoutNext: 'nudge' },
    nudge: { kind: 'send_email', template: 'nudge', next: 'w' },
    w: { kind: 'wait', wait: { type: 'duration', duration: { amount: 2, unit: 'days' } }, next: 'e2' },
    e2: { kind: 'send_email', template: 'two', next: 'w2' },
    w2: { kind: 'wait', wait: { type: 'duration', duration: { amount: 4, unit: 'days' } }, next: 'e3' },
    e3: { kind: 'send_email', template: 'three', next: 'done' },
    done: { kind: 'exit' }
  }
};

describe('path analysis on the compiled machine', () => {
  it('lists both ways through a click-or-timeout drip with emails and time', () => {
    const { paths } = analysePaths(drip, engine);
    expect(paths).toHaveLength(2);
    const clicked = paths.find((p) => p.events.length === 1)!;
    const neverClicks = paths.find((p) => p.timeouts.includes('click'))!;
    expect(clicked.emails.map((e) => e.template)).toEqual(['one', 'two', 'three']);
    expect(clicked.totalMs).toBe(4 * DAY);
    expect(neverClicks.emails.map((e) => e.template)).toEqual(['one', 'nudge', 'two', 'three']);
    expect(neverClicks.totalMs).toBe(9 * DAY);
    expect(neverClicks.end).toEqual({ nodeId: 'done', kind: 'exit' });
    expect(neverClicks.nodes).toEqual(['e1', 'click', 'nudge', 'w', 'e2', 'w2', 'e3', 'done']);
  });

  it('welcome-sequence: one path per language, three emails each', () => {
    const { paths } = analysePaths(shipped('welcome-sequence'), engine);
    expect(paths.length).toBeGreaterThanOrEqual(2);
    for (const p of paths) expect(p.end.kind === 'exit' || p.end.kind === 'goal').toBe(true);
    const en = paths.find((p) => p.choices.some((c) => c.nodeId === 'language' && c.option !== 'else'))!;
    const ru = paths.find((p) => p.choices.some((c) => c.nodeId === 'language' && c.option === 'else'))!;
    expect(en.emails.every((e) => e.template.endsWith('-en'))).toBe(true);
    expect(ru.emails.every((e) => e.template.endsWith('-ru'))).toBe(true);
    expect(en.emails).toHaveLength(3);
  });

  it('webinar-nurture: registered with and without a date, and never registered, in both languages', () => {
    const wf = shipped('webinar-nurture');
    const { paths } = analysePaths(wf, engine);
    expect(paths).toHaveLength(countPaths(workflowSchema.parse(wf)));
    expect(paths).toHaveLength(6);
    const nudged = paths.filter((p) => p.timeouts.length === 1);
    expect(nudged).toHaveLength(2);
    for (const p of nudged) {
      expect(p.emails.map((e) => e.template.replace(/-(en|ru)$/, ''))).toEqual(['webinar-invite', 'webinar-nudge']);
      expect(p.end.nodeId).toBe('no_registration_exit');
    }
  });

  it('every shipped flow has at least one path and each path ends', () => {
    for (const slug of fs.readdirSync('workflows').filter((f) => fs.existsSync(path.join('workflows', f, 'workflow.json')))) {
      const a = analysePaths(shipped(slug), engine);
      expect(a.skipped, slug).toBeUndefined();
      expect(a.paths.length, slug).toBeGreaterThan(0);
      for (const p of a.paths) expect(p.end.nodeId, slug).not.toBe('');
    }
  });

  it('an A/B split gives one path per variant', () => {
    const wf: WorkflowInput = {
      ...drip,
      start: 'split',
      nodes: {
        split: { kind: 'ab_split', variants: [{ name: 'A', weight: 30, next: 'a' }, { name: 'B', weight: 70, next: 'b' }] },
        a: { kind: 'send_email', template: 'a', next: 'x' },
        b: { kind: 'send_email', template: 'b', next: 'x' },
        x: { kind: 'exit' }
      }
    };
    const { paths } = analysePaths(wf, engine);
    expect(paths.map((p) => p.choices[0].option).sort()).toEqual(['A', 'B']);
    expect(paths.map((p) => p.emails[0].template).sort()).toEqual(['a', 'b']);
  });

  it('a loop with a wait is walked once, not forever', () => {
    const wf: WorkflowInput = {
      ...drip,
      start: 'w',
      nodes: {
        w: { kind: 'wait', wait: { type: 'duration', duration: { amount: 1, unit: 'days' } }, next: 'b' },
        b: { kind: 'branch', cases: [{ condition: { kind: 'score', score: 'engagement', op: 'gte', value: 50 }, next: 'x' }], elseNext: 'w' },
        x: { kind: 'exit' }
      }
    };
    const { paths } = analysePaths(wf, engine);
    expect(paths).toHaveLength(1);
    expect(paths[0].totalMs).toBe(DAY);
  });

  it('broken flows: skipped with the reason, no throw', () => {
    expect(analysePaths({ ...drip, nodes: { ...drip.nodes, e1: { kind: 'send_email', template: 'one' } } }, engine).skipped).toBe('schema');
    const dangling = analysePaths({ ...drip, nodes: { ...drip.nodes, e3: { kind: 'send_email', template: 'three', next: 'nowhere' } } }, engine);
    expect(dangling.skipped).toMatch(/nowhere/);
    const spin = analysePaths({ ...drip, nodes: { ...drip.nodes, e3: { kind: 'send_email', template: 'three', next: 'e3' } } }, engine);
    expect(spin.skipped).toMatch(/loop without a wait/);
  });

  it('too many paths are counted, not listed', () => {
    const nodes: WorkflowInput['nodes'] = { end: { kind: 'exit' } };
    // Nine binary branches in a row, each arm meeting again: 2^9 = 512 paths.
    for (let i = 9; i >= 1; i--) {
      const next = i === 9 ? 'end' : `b${i + 1}`;
      nodes[`b${i}`] = { kind: 'branch', cases: [{ condition: { kind: 'score', score: 'fit', op: 'gt', value: i }, next: `s${i}` }], elseNext: next };
      nodes[`s${i}`] = { kind: 'send_email', template: 't', next };
    }
    const a = analysePaths({ ...drip, start: 'b1', nodes }, engine);
    expect(a.tooMany).toBe(512);
    expect(a.tooMany).toBeGreaterThan(MAX_PATHS);
    expect(a.paths).toEqual([]);
  });
});
