/**
 * The tables of each analytics view as plain rows for CSV: the same figures the page shows,
 * raw numbers (rubles, milliseconds as hours, shares as fractions) so a spreadsheet can compute
 * with them. Headers are English keys, stable across UI languages.
 */
import type { AnalyticsService } from '../services/analytics.service';
import type { AnalyticsInput } from '../../components/analytics/filters';

export interface CsvTable {
  header: string[];
  rows: unknown[][];
}

const hours = (ms: number | null) => (ms === null ? null : Math.round((ms / 3_600_000) * 100) / 100);

export const EXPORTS: Record<string, Record<string, (s: AnalyticsService, i: AnalyticsInput) => Promise<CsvTable>>> = {
  overview: {
    async series(s, i) {
      const r = await s.overview(i);
      return {
        header: ['period_start', ...r.channels.map((c) => `leads: ${c.name ?? 'no channel'}`), 'new_leads', 'mqls', 'sqls', 'customers', 'revenue_rub'],
        rows: r.series.map((x) => [x.bucket, ...r.channels.map((c) => x.byChannel[c.id] ?? 0), x.leads, x.mql, x.sql, x.customers, x.revenue])
      };
    }
  },
  funnel: {
    async steps(s, i) {
      const r = await s.funnel(i);
      return { header: ['stage', 'reached', 'conversion_from_previous', 'drop_off', 'share_of_all'], rows: r.steps.map((x) => [x.stage, x.count, x.conversion, x.dropOff, x.ofTotal]) };
    },
    async time(s, i) {
      const r = await s.funnel(i);
      return {
        header: ['stage', 'leads_measured', 'average_hours'],
        rows: [...r.timeInStage.map((x) => [x.stage, x.leads, hours(x.avgMs)]), ['lead_to_customer', r.cycle.customers, hours(r.cycle.avgMs)]]
      };
    },
    async cohorts(s, i) {
      const r = await s.funnel(i);
      return {
        header: ['month', 'leads', 'mqls', 'sqls', 'opportunities', 'customers', 'revenue_rub', 'lead_to_customer'],
        rows: r.cohorts.map((x) => [x.month, x.leads, x.mql, x.sql, x.opportunity, x.customers, x.revenue, x.conversion])
      };
    }
  },
  channels: {
    async channels(s, i) {
      const r = await s.channels(i);
      const rows: unknown[][] = [];
      for (const c of r.channels) {
        rows.push([c.name ?? 'no channel', '', c.leads, c.spend, c.costPerLead, c.mql, c.costPerMql, c.sql, c.costPerSql, c.customers, c.costPerCustomer, c.conversion, c.revenue, c.returnOnSpend]);
        for (const k of c.campaigns) rows.push([c.name ?? 'no channel', k.campaign ?? '', k.leads, '', '', k.mql, '', k.sql, '', k.customers, '', k.conversion, k.revenue, '']);
      }
      return {
        header: ['channel', 'campaign', 'leads', 'spend_rub', 'cost_per_lead', 'mqls', 'cost_per_mql', 'sqls', 'cost_per_sql', 'customers', 'cost_per_customer', 'lead_to_customer', 'revenue_rub', 'revenue_per_ruble_spent'],
        rows
      };
    }
  },
  sales: {
    async reps(s, i) {
      const r = await s.sales(i);
      return {
        header: ['rep', 'handoffs', 'median_first_action_hours', 'p90_first_action_hours', 'sla_breaches', 'accepted', 'rejected', 'recycled', 'accept_rate', 'reject_rate', 'recycle_rate', 'reasons', 'customers', 'conversion', 'revenue_rub'],
        rows: r.reps.map((x) => [
          x.name ?? 'no owner',
          x.received,
          hours(x.medianFirstActionMs),
          hours(x.p90FirstActionMs),
          x.breaches,
          x.accepted,
          x.rejected,
          x.recycled,
          x.acceptRate,
          x.rejectRate,
          x.recycleRate,
          Object.entries(x.reasons).filter(([, n]) => n > 0).map(([k, n]) => `${k}: ${n}`).join('; '),
          x.customers,
          x.conversion,
          x.revenue
        ])
      };
    },
    async speed(s, i) {
      const r = await s.sales(i);
      return { header: ['period_start', 'handoffs_acted_on', 'median_hours', 'p90_hours'], rows: r.speed.map((x) => [x.bucket, x.handoffs, hours(x.medianMs), hours(x.p90Ms)]) };
    }
  },
  email: {
    async steps(s, i) {
      const r = await s.email(i);
      return {
        header: ['flow', 'step', 'template', 'sent', 'delivered', 'bounces', 'opened', 'open_rate', 'clicked', 'click_to_open', 'unsubscribes', 'machine_opened_only', 'machine_opens'],
        rows: r.steps.map((x) => [x.flow ?? '', x.step ?? '', x.templateName ?? '', x.sent, x.delivered, x.bounces, x.opened, x.openRate, x.clicked, x.clickToOpen, x.unsubscribes, x.machineOpened, x.machineOpens])
      };
    }
  },
  flows: {
    async flows(s, i) {
      const r = await s.flows(i);
      const rows: unknown[][] = [];
      for (const w of r) {
        rows.push([w.name, '', '', w.enrolled, w.active, w.finished, w.goal, w.exited, '']);
        for (const p of w.paths) rows.push([w.name, p.label ?? '', p.status, p.leads, '', '', '', '', p.share]);
      }
      return { header: ['flow', 'node', 'status', 'leads', 'active', 'finished', 'goal_reached', 'exited', 'share'], rows };
    }
  }
};
