import { flowRuntimeRepo, type EmailMetric, type EmailNodeCounts } from '../repositories/flow-runtime.repo';
import { workflowsRepo } from '../repositories/workflows.repo';
import { NotFoundError, type Deps } from './deps';

export interface NodeLiveCounts {
  /** Leads resting in the node now. */
  now: number;
  /** Leads that entered the node and have moved on. */
  passed: number;
  email?: EmailNodeCounts;
}

export const LIVE_METRICS = ['now', 'passed', 'sent', 'delivered', 'opens', 'clicks', 'unsubscribes', 'bounces'] as const;
export type LiveMetric = (typeof LIVE_METRICS)[number];

/**
 * The live view of a published flow: per node, who is in it now and who has passed it, and each
 * email step's sends, deliveries, human opens, clicks, unsubscribes and bounces. Every figure is a
 * GROUP BY over an index range (db/migrations/20261125T1250_flow_live.ts); the page polls it.
 */
export function createWorkflowLive(deps: Pick<Deps, 'db' | 'clock'>) {
  const { db } = deps;

  async function flowOf(slug: string) {
    const flow = await workflowsRepo.findBySlug(db, slug);
    if (!flow) throw new NotFoundError(`No workflow ${slug}`);
    return flow;
  }

  return {
    async counts(slug: string) {
      const flow = await flowOf(slug);
      const [nodes, entered, emails, failed] = await Promise.all([
        flowRuntimeRepo.nodeCounts(db, flow.id),
        flowRuntimeRepo.enteredCounts(db, flow.id),
        flowRuntimeRepo.emailCounts(db, flow.id),
        workflowsRepo.failedEffects(db, flow.id)
      ]);
      const perNode: Record<string, NodeLiveCounts> = {};
      const at = (id: string) => (perNode[id] ??= { now: 0, passed: 0 });
      const totals = { active: 0, finished: 0, goal: 0, exited: 0, failed: 0 };
      for (const r of nodes) {
        totals[r.status] += r.count;
        if (r.status === 'active' && r.node) at(r.node).now += r.count;
      }
      for (const e of entered) if (e.node) at(e.node).passed = e.count;
      // A node's "passed" is everyone who entered it minus those still resting there.
      for (const c of Object.values(perNode)) c.passed = Math.max(0, c.passed - c.now);
      for (const [node, c] of emails) at(node).email = c;
      return { slug, status: flow.status, perNode, totals, failedEffects: failed.length, at: deps.clock.now() };
    },

    /** The leads behind one count (at most `limit`), newest first. */
    async leads(slug: string, nodeId: string, metric: LiveMetric, limit = 100) {
      const flow = await flowOf(slug);
      const rows =
        metric === 'now'
          ? await flowRuntimeRepo.leadsInNode(db, flow.id, nodeId, limit)
          : metric === 'passed'
            ? await flowRuntimeRepo.leadsPassedNode(db, flow.id, nodeId, limit)
            : await flowRuntimeRepo.leadsForEmailMetric(db, flow.id, nodeId, metric as EmailMetric, limit);
      return rows.map((r) => ({ id: r.id, name: r.name, email: r.email, company: r.company, stage: r.stage, at: Number(r.at) }));
    }
  };
}

export type WorkflowLive = ReturnType<typeof createWorkflowLive>;
