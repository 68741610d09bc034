import dns from 'node:dns/promises';
import net from 'node:net';
import type { Db } from '../db/database';
import type { WorkflowOutboxTable } from '../db/schema';
import { leadsRepo } from '../repositories/leads.repo';
import { workflowsRepo } from '../repositories/workflows.repo';
import { usersRepo } from '../repositories/users.repo';
import { parseJson } from '../repositories/json';
import { searchTextOf } from '../services/lead-merge';
import type { Deps } from '../services/deps';
import type { EmailStep } from '../email/channel';
import { STAGES } from '../../shared/lead';

export class PermanentEffectError extends Error {}

/** Webhook targets that are private, loopback or link-local are refused unless an admin allows the host. */
export function isPrivateAddress(ip: string): boolean {
  if (net.isIPv4(ip)) {
    const [a, b] = ip.split('.').map(Number);
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  const v6 = ip.toLowerCase();
  return v6 === '::1' || v6 === '::' || v6.startsWith('fc') || v6.startsWith('fd') || v6.startsWith('fe80') || v6.startsWith('::ffff:') && isPrivateAddress(v6.slice(7));
}

/** Sends one `send_email` step through the email channel (src/lib/server/email/channel.ts). */
export interface EmailSender {
  sendStep(step: EmailStep): Promise<Record<string, unknown>>;
}

export interface EffectContext {
  deps: Deps;
  email: EmailSender;
  /** Hosts an admin allowed as webhook targets even though they resolve to private addresses. */
  webhookAllowHosts: Set<string>;
  webhookTimeoutMs: number;
  /** The MQL→SQL hand-off (services/handoff.service.ts): the `handoff` step assigns a rep. */
  handoff?: HandoffAssigner;
}

/** What the `handoff` step needs from the hand-off service, inside the outbox transaction. */
export interface HandoffAssigner {
  assignFromFlow(trx: Db, leadId: string, meta: { workflowId?: string }): Promise<unknown>;
}

type LocalHandler = (trx: Db, effect: WorkflowOutboxTable, params: Record<string, unknown>, ctx: EffectContext) => Promise<unknown>;
type RemoteHandler = (effect: WorkflowOutboxTable, params: Record<string, unknown>, ctx: EffectContext) => Promise<unknown>;

async function leadEvent(trx: Db, ctx: EffectContext, leadId: string, type: string, properties: Record<string, unknown>) {
  const now = ctx.deps.clock.now();
  await workflowsRepo.appendEvents(trx, [{ id: ctx.deps.ids.newId(), lead_id: leadId, type, properties: JSON.stringify(properties), source: 'workflow', actor_id: null, occurred_at: now, received_at: now, dedupe_key: null }]);
}

/** Effects on our own database: applied in the same transaction that marks the effect done. */
export const localHandlers: Record<string, LocalHandler> = {
  async update_field(trx, effect, p, ctx) {
    const lead = await workflowsRepo.leadById(trx, effect.lead_id);
    if (!lead) return { skipped: 'lead gone' };
    const field = String(p.field);
    const now = ctx.deps.clock.now();
    let from: unknown;
    if (field.startsWith('attr:')) {
      const attrs = parseJson<Record<string, unknown>>(lead.attributes, {});
      from = attrs[field.slice(5)];
      attrs[field.slice(5)] = p.value;
      await leadsRepo.update(trx, lead.id, { attributes: JSON.stringify(attrs), updated_at: now });
    } else {
      const allowed = ['name', 'company', 'job_title', 'company_size', 'industry', 'city', 'region', 'country', 'timezone'];
      if (!allowed.includes(field)) throw new PermanentEffectError(`field ${field} cannot be set by a workflow`);
      from = lead[field as keyof typeof lead];
      const patch = { [field]: p.value === null ? null : String(p.value), updated_at: now };
      await leadsRepo.update(trx, lead.id, { ...patch, search_text: searchTextOf({ ...lead, ...patch }) });
    }
    await leadEvent(trx, ctx, lead.id, 'field_changed', { field, from, to: p.value, by: 'workflow', workflowId: effect.workflow_id });
    return { field };
  },
  async adjust_score(trx, effect, p, ctx) {
    const lead = await workflowsRepo.leadById(trx, effect.lead_id);
    if (!lead) return { skipped: 'lead gone' };
    const col = p.score === 'fit' ? 'fit_score' : 'engagement_score';
    const to = lead[col] + Number(p.points);
    await leadsRepo.update(trx, lead.id, { [col]: to, updated_at: ctx.deps.clock.now() });
    await leadEvent(trx, ctx, lead.id, 'score_changed', { score: p.score, points: p.points, from: lead[col], to, reason: p.reason ?? 'workflow', workflowId: effect.workflow_id });
    return { to };
  },
  async set_stage(trx, effect, p, ctx) {
    const lead = await workflowsRepo.leadById(trx, effect.lead_id);
    if (!lead) return { skipped: 'lead gone' };
    const stage = String(p.stage);
    if (!(STAGES as readonly string[]).includes(stage)) throw new PermanentEffectError(`unknown stage ${stage}`);
    if (lead.stage === stage) return { unchanged: true };
    await leadsRepo.update(trx, lead.id, { stage, updated_at: ctx.deps.clock.now() });
    await leadEvent(trx, ctx, lead.id, 'stage_changed', { field: 'stage', from: lead.stage, to: stage, by: 'workflow', workflowId: effect.workflow_id });
    return { stage };
  },
  async assign_owner(trx, effect, p, ctx) {
    const lead = await workflowsRepo.leadById(trx, effect.lead_id);
    if (!lead) return { skipped: 'lead gone' };
    let ownerId: string | undefined;
    if (p.strategy === 'specific' && p.userEmail) ownerId = (await usersRepo.findByEmail(trx, String(p.userEmail)))?.id;
    else {
      // Round-robin among active sales reps: the one with the fewest owned leads, oldest first on ties.
      const r = await trx
        .selectFrom('users')
        .leftJoin('leads', 'leads.owner_id', 'users.id')
        .select(['users.id', (eb) => eb.fn.count('leads.id').as('n')])
        .where('users.role', '=', 'sales')
        .where('users.active', '=', 1)
        .groupBy('users.id')
        .orderBy('n')
        .orderBy('users.created_at')
        .executeTakeFirst();
      ownerId = r?.id;
    }
    if (!ownerId) throw new PermanentEffectError('no user to assign');
    if (ownerId === lead.owner_id) return { unchanged: true };
    await leadsRepo.update(trx, lead.id, { owner_id: ownerId, updated_at: ctx.deps.clock.now() });
    await leadEvent(trx, ctx, lead.id, 'owner_changed', { field: 'owner_id', from: lead.owner_id, to: ownerId, by: 'workflow', workflowId: effect.workflow_id });
    return { ownerId };
  },
  async notify(trx, effect, p, ctx) {
    const lead = await workflowsRepo.leadById(trx, effect.lead_id);
    const to = p.to as 'owner' | { role: string };
    const userId = to === 'owner' ? lead?.owner_id ?? null : null;
    const role = to === 'owner' ? (userId ? null : 'admin') : to.role;
    await trx
      .insertInto('notifications')
      .values({ id: ctx.deps.ids.newId(), notice_key: effect.effect_key, user_id: userId, role, lead_id: effect.lead_id, message: String(p.message), created_at: ctx.deps.clock.now(), read_at: null })
      .onConflict((oc) => oc.column('notice_key').doNothing())
      .execute();
    return { userId, role };
  },
  async handoff(trx, effect, _p, ctx) {
    if (ctx.handoff) return ctx.handoff.assignFromFlow(trx, effect.lead_id, { workflowId: effect.workflow_id });
    // Without a hand-off service (a bare engine in tests) the request is only recorded.
    await leadEvent(trx, ctx, effect.lead_id, 'handoff_requested', { workflowId: effect.workflow_id });
    return { requested: true };
  },
};

/** Effects that leave the process: run outside any transaction, then recorded. */
export const remoteHandlers: Record<string, RemoteHandler> = {
  async send_email(effect, p, ctx) {
    return ctx.email.sendStep({
      effectKey: effect.effect_key,
      leadId: effect.lead_id,
      workflowId: effect.workflow_id,
      nodeId: effect.node_id,
      template: String(p.template),
      transactional: p.transactional === true,
      onCap: p.onCap === 'skip' ? 'skip' : 'wait',
      window: typeof p.window === 'string' ? p.window : undefined,
      utm: (p.utm as Record<string, string> | undefined) ?? undefined
    });
  },
  async webhook(effect, p, ctx) {
    const url = new URL(String(p.url));
    if (!ctx.webhookAllowHosts.has(url.hostname)) {
      const addresses = net.isIP(url.hostname) ? [url.hostname] : (await dns.lookup(url.hostname, { all: true })).map((a) => a.address);
      if (addresses.some(isPrivateAddress)) throw new PermanentEffectError(`webhook host ${url.hostname} resolves to a private address`);
    }
    const started = Date.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': effect.effect_key, 'user-agent': 'Nurture-Webhook/1' },
      body: JSON.stringify({ event: 'workflow.webhook', effectKey: effect.effect_key, workflowId: effect.workflow_id, nodeId: effect.node_id, leadId: effect.lead_id }),
      signal: AbortSignal.timeout(ctx.webhookTimeoutMs),
      redirect: 'manual'
    });
    const latencyMs = Date.now() - started;
    if (res.status >= 500 || res.status === 429) throw new Error(`webhook answered ${res.status}`);
    if (res.status >= 400) throw new PermanentEffectError(`webhook answered ${res.status}`);
    return { status: res.status, latencyMs };
  }
};
