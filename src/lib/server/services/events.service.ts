import { leadsRepo } from '../repositories/leads.repo';
import { eventsRepo } from '../repositories/events.repo';
import { normalizeEmail } from '../../shared/lead';
import type { ApiEvent } from '../../shared/api';
import { InputError, type Actor, type Deps } from './deps';

/** Reserved types are written by the system itself; an integration may not forge them. */
const RESERVED = new Set(['lead_created', 'lead_captured', 'lead_merged', 'field_changed', 'stage_changed', 'owner_changed']);

export function createEventsService(deps: Deps) {
  const { db, clock, ids } = deps;
  return {
    /**
     * Stores an event from an integration. An unknown lead is kept as unmatched (no lead id,
     * the email kept apart in properties), never dropped; a repeated idempotency key stores nothing.
     */
    async ingest(actor: Actor, e: ApiEvent): Promise<{ eventId: string; leadId: string | null; duplicate: boolean }> {
      if (RESERVED.has(e.type)) throw new InputError([{ field: 'type', message: `"${e.type}" is reserved for the system` }]);
      const now = clock.now();
      const occurredAt = e.occurredAt === undefined ? now : typeof e.occurredAt === 'number' ? e.occurredAt : Date.parse(e.occurredAt);
      const props = JSON.stringify(e.properties);
      if (props.length > 16_384) throw new InputError([{ field: 'properties', message: 'must be at most 16 KB as JSON' }]);
      let leadId: string | null = null;
      let email: string | undefined;
      if (e.leadId) {
        const lead = await leadsRepo.findById(db, e.leadId);
        if (!lead) throw new InputError([{ field: 'leadId', message: 'is not a known lead' }]);
        leadId = lead.merged_into_id ?? lead.id;
      } else if (e.email) {
        const n = normalizeEmail(e.email);
        if (!n.ok) throw new InputError([{ field: 'email', message: n.reason }]);
        email = n.value;
        const hit = await leadsRepo.findIdsByIdentities(db, [n.value], []);
        leadId = hit[0]?.lead_id ?? null;
      }
      const dedupeKey = e.idempotencyKey ? `api:${e.idempotencyKey}` : null;
      const id = ids.newId();
      const stored = await eventsRepo.append(db, {
        id,
        lead_id: leadId,
        type: e.type,
        properties: leadId || !email ? props : JSON.stringify({ ...e.properties, $unmatchedEmail: email }),
        source: 'api',
        actor_id: actor.id,
        occurred_at: occurredAt,
        received_at: now,
        dedupe_key: dedupeKey
      });
      if (!stored && dedupeKey) {
        const prior = await eventsRepo.findByDedupeKey(db, dedupeKey);
        return { eventId: prior!.id, leadId: prior!.lead_id, duplicate: true };
      }
      return { eventId: id, leadId, duplicate: false };
    }
  };
}

export type EventsService = ReturnType<typeof createEventsService>;
