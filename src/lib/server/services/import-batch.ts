import type { Db } from '../db/database';
import type { EventsTable, ImportRejectsTable, ImportsTable } from '../db/schema';
import { importsRepo } from '../repositories/imports.repo';
import { leadsRepo } from '../repositories/leads.repo';
import { eventsRepo } from '../repositories/events.repo';
import type { LeadInput, Touch } from '../../shared/lead';
import { applyCapture, newLeadRow, type LeadRow } from './lead-merge';
import type { Actor, Deps } from './deps';

/** A CSV row that passed normalization and waits for its batch. */
export interface PlannedRow {
  row: number;
  input: LeadInput;
  touch: Touch | undefined;
}

export interface BatchInput {
  importId: string;
  channelId: string;
  actor: Actor;
  rows: PlannedRow[];
  rejects: ImportRejectsTable[];
  now: number;
}

export interface BatchCounts {
  total: number;
  created: number;
  updated: number;
  rejected: number;
}

type Identity = { kind: 'email' | 'phone'; value: string; lead_id: string; created_at: number };

/** What a batch will write, decided in memory from one identity lookup. */
export interface BatchPlan {
  inserts: LeadRow[];
  updates: Map<string, Partial<LeadRow>>;
  identities: Identity[];
  events: EventsTable[];
  counts: BatchCounts;
}

/**
 * Folds a batch of rows into the base's current state: email first, then phone, finds the lead a
 * row belongs to, in the base or earlier in the same batch; a hit is updated with applyCapture,
 * the same rule a single capture uses, and a miss becomes a new lead. Pure apart from ids.
 */
export function planBatch(
  input: BatchInput,
  hits: { kind: string; value: string; lead_id: string }[],
  existing: LeadRow[],
  newId: () => string
): BatchPlan {
  const { now, importId, channelId } = input;
  const emailTo = new Map<string, string>();
  const phoneTo = new Map<string, string>();
  for (const h of hits) (h.kind === 'email' ? emailTo : phoneTo).set(h.value, h.lead_id);
  const current = new Map(existing.map((l) => [l.id, l]));
  const created = new Map<string, LeadRow>();
  const updates = new Map<string, Partial<LeadRow>>();
  const identities: Identity[] = [];
  const events: EventsTable[] = [];
  const counts: BatchCounts = { total: input.rows.length, created: 0, updated: 0, rejected: new Set(input.rejects.map((r) => r.row_number)).size };
  counts.total += counts.rejected;

  for (const p of input.rows) {
    const { email, phone } = p.input;
    const matchId = (email && emailTo.get(email)) || (phone && phoneTo.get(phone)) || undefined;
    const target = matchId ? (created.get(matchId) ?? current.get(matchId)) : undefined;
    let leadId: string;
    let properties: Record<string, unknown>;
    if (target) {
      leadId = target.id;
      const { patch, changes } = applyCapture(target, p.input, p.touch, now);
      Object.assign(target, patch);
      if (!created.has(leadId)) updates.set(leadId, { ...updates.get(leadId), ...patch });
      counts.updated++;
      properties = { importId, row: p.row, ...(changes.length ? { changes } : {}) };
    } else {
      leadId = newId();
      created.set(leadId, newLeadRow({ id: leadId, input: p.input, source: 'import', channelId, touch: p.touch, now }));
      counts.created++;
      properties = { importId, row: p.row, channelId };
    }
    // The first lead to claim an address keeps it, as the identity table's primary key would decide.
    if (email && !emailTo.has(email)) {
      emailTo.set(email, leadId);
      identities.push({ kind: 'email', value: email, lead_id: leadId, created_at: now });
    }
    if (phone && !phoneTo.has(phone)) {
      phoneTo.set(phone, leadId);
      identities.push({ kind: 'phone', value: phone, lead_id: leadId, created_at: now });
    }
    events.push({
      id: newId(),
      lead_id: leadId,
      type: target ? 'lead_captured' : 'lead_created',
      properties: JSON.stringify(properties),
      source: 'import',
      actor_id: input.actor.id,
      occurred_at: now,
      received_at: now,
      dedupe_key: null
    });
  }
  return { inserts: [...created.values()], updates, identities, events, counts };
}

/**
 * Writes one batch in one transaction: lookup, plan, multi-row inserts, the rejects and the
 * import's progress. Either all of it lands or none of it does.
 */
export function createBatchWriter(deps: Deps) {
  return {
    async write(input: BatchInput, progressPatch: (c: BatchCounts) => Partial<ImportsTable>): Promise<BatchCounts> {
      return deps.db.transaction().execute(async (trx: Db) => {
        const emails: string[] = [];
        const phones: string[] = [];
        for (const r of input.rows) {
          if (r.input.email) emails.push(r.input.email);
          if (r.input.phone) phones.push(r.input.phone);
        }
        const hits = await leadsRepo.findIdsByIdentities(trx, emails, phones);
        const existing = await importsRepo.leadsByIds(trx, [...new Set(hits.map((h) => h.lead_id))]);
        const plan = planBatch(input, hits, existing, () => deps.ids.newId());
        await leadsRepo.insertMany(trx, plan.inserts);
        for (const [id, patch] of plan.updates) await leadsRepo.update(trx, id, patch);
        await leadsRepo.addIdentities(trx, plan.identities);
        await eventsRepo.appendMany(trx, plan.events);
        await importsRepo.addRejects(trx, input.rejects);
        await importsRepo.update(trx, input.importId, progressPatch(plan.counts));
        return plan.counts;
      });
    }
  };
}
