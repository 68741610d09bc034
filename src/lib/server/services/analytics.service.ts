import type { Deps } from './deps';
import { analyticsRepo, type AnalyticsFilter, type ReachRow } from '../repositories/analytics.repo';
import { bucketKeys, defaultGrain, hourBucketer, type Grain } from '../analytics/buckets';
import { FUNNEL_STAGES, funnelSteps } from '../analytics/funnel';
import { costPer, median, percentile, ratio } from '../analytics/stats';
import { prorate } from '../analytics/spend';
import { inputRange, type AnalyticsInput } from '../../components/analytics/filters';
import { parseJson } from '../repositories/json';

/** Stands for "no channel" / "no owner" in grouped rows and filters. */
export const NONE = 'none';

const REJECT_REASONS = ['bad_fit', 'no_budget', 'wrong_contact', 'duplicate', 'other'] as const;

function filterOf(input: AnalyticsInput): AnalyticsFilter {
  return { ...inputRange(input), channelId: input.channelId, ownerId: input.ownerId, segmentId: input.segmentId };
}

const emptyReach = (): ReachRow => ({ leads: 0, mql: 0, sql: 0, opportunity: 0, customers: 0, revenue: 0 });
function addReach(into: ReachRow, r: ReachRow) {
  into.leads += Number(r.leads);
  into.mql += Number(r.mql);
  into.sql += Number(r.sql);
  into.opportunity += Number(r.opportunity);
  into.customers += Number(r.customers);
  into.revenue += Number(r.revenue);
}

/** The per-channel (or campaign) money figures a marketer compares. */
function economics(r: ReachRow, spend: number | null) {
  const s = spend ?? 0;
  return {
    ...r,
    spend,
    costPerLead: costPer(s, r.leads),
    costPerMql: costPer(s, r.mql),
    costPerSql: costPer(s, r.sql),
    costPerCustomer: costPer(s, r.customers),
    conversion: ratio(r.customers, r.leads),
    /** Revenue per ruble spent. */
    returnOnSpend: s > 0 ? r.revenue / s : null
  };
}

/** Node labels of a flow's published version, by node id. */
function nodeLabels(definition: string | null): Map<string, string> {
  const def = parseJson<{ nodes?: Record<string, { label?: string; kind?: string }> }>(definition ?? '{}', {});
  const out = new Map<string, string>();
  for (const [id, n] of Object.entries(def.nodes ?? {})) out.set(id, n.label || `${id} (${n.kind ?? '?'})`);
  return out;
}

/**
 * Read-only figures for the analytics area. Each view answers for a date range (days in Moscow
 * time, end inclusive) and the channel / owner / segment filters. "Cohort" figures (funnel,
 * channels) follow the leads captured in the range wherever they got later; "activity" figures
 * (overview stage counts, hand-offs, emails, enrolments) count what happened in the range.
 */
export function createAnalyticsService(deps: Deps) {
  const { db } = deps;

  async function channelNames() {
    return new Map((await analyticsRepo.channels(db)).map((c) => [c.id, c.name]));
  }

  return {
    /** What the filter bar offers. */
    async options() {
      const [channels, users, segments] = await Promise.all([
        analyticsRepo.channels(db),
        analyticsRepo.owners(db),
        analyticsRepo.segments(db).catch(() => [] as { id: string; name: string }[])
      ]);
      return {
        channels,
        owners: users.filter((u) => u.role === 'sales').map((u) => ({ id: u.id, name: u.name })),
        segments
      };
    },

    /** New leads per bucket by channel; MQLs, SQLs, customers and revenue that happened in each bucket. */
    async overview(input: AnalyticsInput) {
      const f = filterOf(input);
      const grain: Grain = input.grain ?? defaultGrain(f.from, f.to);
      const keys = bucketKeys(f.from, f.to, grain);
      const toBucket = hourBucketer(f.from, f.to, grain);
      const [leads, changes, names] = await Promise.all([analyticsRepo.newLeadsByHour(db, f), analyticsRepo.stageChangesByHour(db, f), channelNames()]);
      const rows = new Map(keys.map((k) => [k, { bucket: k, leads: 0, mql: 0, sql: 0, customers: 0, revenue: 0, byChannel: {} as Record<string, number> }]));
      const channelTotals = new Map<string, number>();
      for (const r of leads) {
        const row = rows.get(toBucket(Number(r.hour)));
        if (!row) continue;
        const ch = r.channel_id ?? NONE;
        row.leads += Number(r.n);
        row.byChannel[ch] = (row.byChannel[ch] ?? 0) + Number(r.n);
        channelTotals.set(ch, (channelTotals.get(ch) ?? 0) + Number(r.n));
      }
      for (const c of changes) {
        const row = rows.get(toBucket(Number(c.hour)));
        if (!row) continue;
        if (c.to_stage === 'mql') row.mql += Number(c.n);
        else if (c.to_stage === 'sql') row.sql += Number(c.n);
        else {
          row.customers += Number(c.n);
          row.revenue += Number(c.amount);
        }
      }
      const series = [...rows.values()];
      const totals = series.reduce((t, r) => ({ leads: t.leads + r.leads, mql: t.mql + r.mql, sql: t.sql + r.sql, customers: t.customers + r.customers, revenue: t.revenue + r.revenue }), {
        leads: 0,
        mql: 0,
        sql: 0,
        customers: 0,
        revenue: 0
      });
      const channels = [...channelTotals.entries()].sort((a, b) => b[1] - a[1]).map(([id, leads]) => ({ id, name: id === NONE ? null : (names.get(id) ?? id), leads }));
      return { grain, series, channels, totals };
    },

    /** Stage counts of the cohort, conversion and drop-off, time in stage, the whole cycle, monthly cohorts. */
    async funnel(input: AnalyticsInput) {
      const f = filterOf(input);
      const toMonth = hourBucketer(f.from, f.to, 'month');
      const [byHour, stages] = await Promise.all([analyticsRepo.cohortByHour(db, f), analyticsRepo.timeInStage(db, f)]);
      const total = emptyReach();
      let cycleSum = 0;
      let cycleN = 0;
      const months = new Map<string, ReachRow>();
      for (const r of byHour) {
        addReach(total, r);
        cycleSum += Number(r.cycle_sum);
        cycleN += Number(r.cycle_n);
        const key = toMonth(Number(r.hour));
        if (!months.has(key)) months.set(key, emptyReach());
        addReach(months.get(key)!, r);
      }
      const counts = [total.leads, total.mql, total.sql, total.opportunity, total.customers];
      const inStage = new Map(stages.map((s) => [s.stage === 'subscriber' ? 'lead' : s.stage, s]));
      // subscriber and lead are one funnel step; merge their time.
      const sub = stages.find((s) => s.stage === 'subscriber');
      const lead = stages.find((s) => s.stage === 'lead');
      if (sub && lead) inStage.set('lead', { stage: 'lead', n: Number(sub.n) + Number(lead.n), total: Number(sub.total) + Number(lead.total) });
      return {
        steps: funnelSteps(counts),
        revenue: total.revenue,
        timeInStage: FUNNEL_STAGES.filter((s) => s !== 'customer').map((stage) => {
          const s = inStage.get(stage);
          return { stage, leads: s ? Number(s.n) : 0, avgMs: s && Number(s.n) > 0 ? Number(s.total) / Number(s.n) : null };
        }),
        cycle: { customers: cycleN, avgMs: cycleN > 0 ? cycleSum / cycleN : null },
        cohorts: [...months.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([month, r]) => ({ month, ...r, conversion: ratio(r.customers, r.leads) }))
      };
    },

    /** Per channel and campaign: leads, spend prorated to the range, cost per stage, conversion, revenue, return on spend. */
    async channels(input: AnalyticsInput) {
      const f = filterOf(input);
      const [rows, spendRows, names] = await Promise.all([analyticsRepo.cohortByChannel(db, f), analyticsRepo.spend(db, f), channelNames()]);
      // Spend belongs to a channel, not to a lead: owner and segment filters narrow the leads only.
      const spend = prorate(spendRows, f.from, f.to);
      const byChannel = new Map<string, { reach: ReachRow; campaigns: { campaign: string | null; reach: ReachRow }[] }>();
      for (const r of rows) {
        const ch = r.channel_id ?? NONE;
        if (!byChannel.has(ch)) byChannel.set(ch, { reach: emptyReach(), campaigns: [] });
        const entry = byChannel.get(ch)!;
        const reach = emptyReach();
        addReach(reach, r);
        addReach(entry.reach, r);
        entry.campaigns.push({ campaign: r.campaign, reach });
      }
      if (!f.channelId) for (const ch of spend.keys()) if (!byChannel.has(ch)) byChannel.set(ch, { reach: emptyReach(), campaigns: [] });
      const total = emptyReach();
      let totalSpend = 0;
      const channels = [...byChannel.entries()].map(([id, e]) => {
        addReach(total, e.reach);
        const s = id === NONE ? null : (spend.get(id) ?? 0);
        totalSpend += s ?? 0;
        return {
          id,
          name: id === NONE ? null : (names.get(id) ?? id),
          ...economics(e.reach, s),
          campaigns: e.campaigns
            .sort((a, b) => b.reach.leads - a.reach.leads)
            .map((c) => ({ campaign: c.campaign, ...c.reach, conversion: ratio(c.reach.customers, c.reach.leads) }))
        };
      });
      channels.sort((a, b) => b.leads - a.leads);
      const paid = channels.filter((c) => c.costPerCustomer !== null);
      const withLeads = channels.filter((c) => c.leads > 0);
      return {
        channels,
        totals: economics(total, totalSpend),
        highlights: {
          cheapestCustomer: paid.length ? paid.reduce((a, b) => (b.costPerCustomer! < a.costPerCustomer! ? b : a)).id : null,
          mostLeads: withLeads.length ? withLeads[0].id : null,
          bestConversion: withLeads.length ? withLeads.reduce((a, b) => ((b.conversion ?? 0) > (a.conversion ?? 0) ? b : a)).id : null
        }
      };
    },

    /** Per rep: hand-offs, time to first action (median, p90), SLA breaches, outcomes with reasons, customers; speed to lead over time. */
    async sales(input: AnalyticsInput) {
      const f = filterOf(input);
      const grain: Grain = input.grain ?? (defaultGrain(f.from, f.to) === 'day' ? 'week' : defaultGrain(f.from, f.to));
      const [rows, users] = await Promise.all([analyticsRepo.handoffs(db, f), analyticsRepo.owners(db)]);
      const names = new Map(users.map((u) => [u.id, u.name]));
      const toBucket = hourBucketer(f.from, f.to, grain);
      const reps = new Map<string, typeof rows>();
      const speedBy = new Map<string, number[]>(bucketKeys(f.from, f.to, grain).map((k) => [k, []]));
      for (const r of rows) {
        const id = r.owner_id ?? NONE;
        if (!reps.has(id)) reps.set(id, []);
        reps.get(id)!.push(r);
        if (r.first_action_at !== null) speedBy.get(toBucket(Math.floor(r.assigned_at / 3_600_000)))?.push(r.first_action_at - r.assigned_at);
      }
      const table = [...reps.entries()].map(([id, hs]) => {
        const waits = hs.filter((h) => h.first_action_at !== null).map((h) => h.first_action_at! - h.assigned_at);
        const count = (status: string) => hs.filter((h) => h.status === status).length;
        // A reassigned hand-off passed the lead on: its later sale belongs to the next rep.
        const kept = hs.filter((h) => h.status !== 'reassigned');
        const won = kept.filter((h) => h.customer_at !== null);
        const reasons = Object.fromEntries(REJECT_REASONS.map((r) => [r, hs.filter((h) => h.reason === r && (h.status === 'rejected' || h.status === 'recycled')).length]));
        const closed = hs.length - count('open');
        return {
          ownerId: id,
          name: id === NONE ? null : (names.get(id) ?? id),
          received: hs.length,
          acted: waits.length,
          medianFirstActionMs: median(waits),
          p90FirstActionMs: percentile(waits, 0.9),
          breaches: hs.filter((h) => h.breached).length,
          open: count('open'),
          accepted: count('accepted'),
          rejected: count('rejected'),
          recycled: count('recycled'),
          reassigned: count('reassigned'),
          acceptRate: ratio(count('accepted'), closed),
          rejectRate: ratio(count('rejected'), closed),
          recycleRate: ratio(count('recycled'), closed),
          reasons,
          customers: won.length,
          conversion: ratio(won.length, kept.length),
          revenue: won.reduce((s, h) => s + Number(h.revenue ?? 0), 0)
        };
      });
      table.sort((a, b) => (b.medianFirstActionMs ?? -1) - (a.medianFirstActionMs ?? -1));
      const slowest = table.find((r) => r.ownerId !== NONE && r.medianFirstActionMs !== null)?.ownerId ?? null;
      return {
        grain,
        reps: table,
        slowest,
        speed: [...speedBy.entries()].map(([bucket, w]) => ({ bucket, handoffs: w.length, medianMs: median(w), p90Ms: percentile(w, 0.9) }))
      };
    },

    /** Per flow, step and template: sent, delivered, human opens and clicks, click-to-open, unsubscribes, bounces; machine opens apart. */
    async email(input: AnalyticsInput) {
      const f = filterOf(input);
      const [rows, unsubs, flows] = await Promise.all([analyticsRepo.emailByStep(db, f), analyticsRepo.unsubscribesByStep(db, f), analyticsRepo.flows(db)]);
      const key = (r: { workflow_id: string | null; node_id: string | null; template: string | null }) => `${r.workflow_id}|${r.node_id}|${r.template}`;
      const unsubBy = new Map(unsubs.map((u) => [key(u), Number(u.n)]));
      const flowBy = new Map(flows.map((w) => [w.id, { name: w.name, labels: nodeLabels(w.definition) }]));
      const steps = rows.map((r) => {
        const flow = r.workflow_id ? flowBy.get(r.workflow_id) : undefined;
        const n = (v: number) => Number(v ?? 0);
        return {
          flowId: r.workflow_id,
          flow: flow?.name ?? null,
          nodeId: r.node_id,
          step: r.node_id ? (flow?.labels.get(r.node_id) ?? r.node_id) : null,
          template: r.template,
          // The slug, not the stored name: shipped templates' names are their Liquid subject lines.
          templateName: r.template,
          sent: n(r.sent),
          delivered: n(r.delivered),
          bounces: n(r.bounces),
          opened: n(r.opened),
          opens: n(r.opens),
          clicked: n(r.clicked),
          clicks: n(r.clicks),
          unsubscribes: unsubBy.get(key(r)) ?? 0,
          machineOpened: n(r.machine_opened),
          machineOpens: n(r.machine_opens),
          machineClicks: n(r.machine_clicks),
          openRate: ratio(n(r.opened), n(r.delivered)),
          clickRate: ratio(n(r.clicked), n(r.delivered)),
          clickToOpen: ratio(n(r.clicked), n(r.opened))
        };
      });
      steps.sort((a, b) => (a.flow ?? '~').localeCompare(b.flow ?? '~') || b.sent - a.sent);
      const sum = (k: 'sent' | 'delivered' | 'bounces' | 'opened' | 'clicked' | 'unsubscribes' | 'machineOpened' | 'machineOpens') => steps.reduce((s, r) => s + r[k], 0);
      const totals = {
        sent: sum('sent'),
        delivered: sum('delivered'),
        bounces: sum('bounces'),
        opened: sum('opened'),
        clicked: sum('clicked'),
        unsubscribes: sum('unsubscribes'),
        machineOpened: sum('machineOpened'),
        machineOpens: sum('machineOpens')
      };
      return { steps, totals: { ...totals, openRate: ratio(totals.opened, totals.delivered), clickToOpen: ratio(totals.clicked, totals.opened) } };
    },

    /** Per flow: enrolled in the range, where they are now (active, finished, goal, exited) and the share of each end node. */
    async flows(input: AnalyticsInput) {
      const f = filterOf(input);
      const [rows, flows] = await Promise.all([analyticsRepo.flowInstances(db, f), analyticsRepo.flows(db)]);
      return flows
        .map((w) => {
          const mine = rows.filter((r) => r.workflow_id === w.id);
          const labels = nodeLabels(w.definition);
          const enrolled = mine.reduce((s, r) => s + Number(r.n), 0);
          const by = (status: string) => mine.filter((r) => r.status === status).reduce((s, r) => s + Number(r.n), 0);
          const paths = mine
            .map((r) => ({ node: r.node, label: r.node ? (labels.get(r.node) ?? r.node) : null, status: r.status, leads: Number(r.n), share: ratio(Number(r.n), enrolled) }))
            .sort((a, b) => b.leads - a.leads);
          return { id: w.id, name: w.name, enrolled, active: by('active'), finished: by('finished'), goal: by('goal'), exited: by('exited'), failed: by('failed'), paths };
        })
        .sort((a, b) => b.enrolled - a.enrolled);
    }
  };
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;
