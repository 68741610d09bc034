import type { Db } from '../db/database';
import { leadsRepo } from '../repositories/leads.repo';
import { eventsRepo } from '../repositories/events.repo';
import { leadInputSchema, describeIssues, type LeadInput, type LeadInputRaw, type LeadSource, type Touch } from '../../shared/lead';
import { applyCapture, newLeadRow, type FieldChange } from './lead-merge';
import type { ChannelResolver } from './channels.service';
import { InputError, type Actor, type Deps } from './deps';

export interface CaptureRequest {
  input: LeadInput;
  source: LeadSource;
  touch?: Touch;
  channelName?: string;
  channelId?: string;
  actor: Actor;
  occurredAt?: number;
  /** A second event to store with the capture, e.g. `form_submitted`. */
  event?: { type: string; properties: Record<string, unknown>; dedupeKey?: string };
}

export interface CaptureResult {
  leadId: string;
  created: boolean;
  /** True when the capture matched an existing lead by email or phone and updated it. */
  merged: boolean;
  changes: FieldChange[];
}

export function parseLeadInput(raw: LeadInputRaw): LeadInput {
  const r = leadInputSchema.safeParse(raw);
  if (!r.success) throw new InputError(describeIssues(r.error));
  return r.data;
}

export function createCaptureService(deps: Deps, channels: ChannelResolver) {
  const { clock, ids } = deps;

  /** Finds the lead a capture belongs to: email first, then phone. */
  async function match(db: Db, input: LeadInput): Promise<string | undefined> {
    const hits = await leadsRepo.findIdsByIdentities(db, input.email ? [input.email] : [], input.phone ? [input.phone] : []);
    return hits.find((h) => h.kind === 'email')?.lead_id ?? hits.find((h) => h.kind === 'phone')?.lead_id;
  }

  async function captureIn(db: Db, req: CaptureRequest): Promise<CaptureResult> {
    const now = clock.now();
    const occurredAt = req.occurredAt ?? now;
    const channelId = await channels.resolve(db, { source: req.source, channelName: req.channelName, channelId: req.channelId, touch: req.touch });
    const existingId = await match(db, req.input);
    const touch = req.touch && Object.keys(req.touch).length ? req.touch : undefined;
    let leadId: string;
    let changes: FieldChange[] = [];
    if (existingId) {
      leadId = existingId;
      const existing = (await leadsRepo.findById(db, existingId))!;
      const applied = applyCapture(existing, req.input, touch, now);
      changes = applied.changes;
      await leadsRepo.update(db, leadId, applied.patch);
    } else {
      leadId = ids.newId();
      await leadsRepo.insert(db, newLeadRow({ id: leadId, input: req.input, source: req.source, channelId, touch, now }));
    }
    const identities = [
      ...(req.input.email ? [{ kind: 'email' as const, value: req.input.email, lead_id: leadId, created_at: now }] : []),
      ...(req.input.phone ? [{ kind: 'phone' as const, value: req.input.phone, lead_id: leadId, created_at: now }] : [])
    ];
    await leadsRepo.addIdentities(db, identities);
    await eventsRepo.append(db, {
      id: ids.newId(),
      lead_id: leadId,
      type: existingId ? 'lead_captured' : 'lead_created',
      properties: JSON.stringify({ source: req.source, channelId, touch: touch ?? {}, ...(changes.length ? { changes } : {}) }),
      source: req.source,
      actor_id: req.actor.id,
      occurred_at: occurredAt,
      received_at: now,
      dedupe_key: null
    });
    if (req.event) {
      await eventsRepo.append(db, {
        id: ids.newId(),
        lead_id: leadId,
        type: req.event.type,
        properties: JSON.stringify(req.event.properties),
        source: req.source,
        actor_id: req.actor.id,
        occurred_at: occurredAt,
        received_at: now,
        dedupe_key: req.event.dedupeKey ?? null
      });
    }
    return { leadId, created: !existingId, merged: !!existingId, changes };
  }

  return {
    /** Creates or updates the lead in one transaction, with its timeline events. */
    capture(req: CaptureRequest): Promise<CaptureResult> {
      return deps.db.transaction().execute((trx) => captureIn(trx, req));
    }
  };
}

export type CaptureService = ReturnType<typeof createCaptureService>;
