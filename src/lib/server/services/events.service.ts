import type SQLite from 'better-sqlite3';
import type { Db } from '../db/database';
import type { EventsTable } from '../db/schema';
import { leadsRepo } from '../repositories/leads.repo';
import { eventsRepo } from '../repositories/events.repo';
import { eventIngestStatements, type EventIngestStatements } from '../repositories/event-ingest.repo';
import { normalizeEmail } from '../../shared/lead';
import type { ApiEvent } from '../../shared/api';
import { createSqliteGroupCommit } from './sqlite-group-commit';
import { InputError, type Actor, type Deps } from './deps';

/** Reserved types are written by the system itself; an integration may not forge them. */
const RESERVED = new Set(['lead_created', 'lead_captured', 'lead_merged', 'field_changed', 'stage_changed', 'owner_changed']);

export interface IngestResult {
  eventId: string;
  leadId: string | null;
  duplicate: boolean;
}

/** A checked event, ready to store once its lead reference (id or email) is resolved. */
interface EventDraft {
  leadRef: { leadId: string } | { email: string } | null;
  row: EventsTable;
  properties: Record<string, unknown>;
}
const UNKNOWN_LEAD = 'unknown_lead' as const;
type Stored = IngestResult | typeof UNKNOWN_LEAD;

/**
 * `sqlite`, the raw handle under Kysely, turns on the SQLite hot path: prepared statements run in
 * group commits (sqlite-group-commit.ts). Through Kysely the two statements of an event cost about
 * as much CPU as the rest of the request; without the handle (another dialect) Kysely is used.
 */
export function createEventsService(deps: Deps, sqlite?: SQLite.Database) {
  const { db, clock, ids } = deps;
  const store: (d: EventDraft) => Promise<Stored> = sqlite ? createSqliteGroupCommit(db, sqlite, storeWith(eventIngestStatements(sqlite))) : (d) => storeWithKysely(db, d);
  return {
    /**
     * Stores an event from an integration. An unknown lead is kept as unmatched (no lead id,
     * the email kept apart in properties), never dropped; a repeated idempotency key stores nothing.
     */
    async ingest(actor: Actor, e: ApiEvent): Promise<IngestResult> {
      if (RESERVED.has(e.type)) throw new InputError([{ field: 'type', message: `"${e.type}" is reserved for the system` }]);
      const now = clock.now();
      const occurredAt = e.occurredAt === undefined ? now : typeof e.occurredAt === 'number' ? e.occurredAt : Date.parse(e.occurredAt);
      const props = JSON.stringify(e.properties);
      if (props.length > 16_384) throw new InputError([{ field: 'properties', message: 'must be at most 16 KB as JSON' }]);
      let leadRef: EventDraft['leadRef'] = null;
      if (e.leadId) leadRef = { leadId: e.leadId };
      else if (e.email) {
        const n = normalizeEmail(e.email);
        if (!n.ok) throw new InputError([{ field: 'email', message: n.reason }]);
        leadRef = { email: n.value };
      }
      const row: EventsTable = {
        id: ids.newId(),
        lead_id: null,
        type: e.type,
        properties: props,
        source: 'api',
        actor_id: actor.id,
        occurred_at: occurredAt,
        received_at: now,
        dedupe_key: e.idempotencyKey ? `api:${e.idempotencyKey}` : null
      };
      const stored = await store({ leadRef, row, properties: e.properties });
      if (stored === UNKNOWN_LEAD) throw new InputError([{ field: 'leadId', message: 'is not a known lead' }]);
      return stored;
    }
  };
}

/** The row to insert once the lead is known: an unmatched email is kept apart in properties. */
function rowFor(d: EventDraft, leadId: string | null): EventsTable {
  if (leadId || !d.leadRef || !('email' in d.leadRef)) return { ...d.row, lead_id: leadId };
  return { ...d.row, properties: JSON.stringify({ ...d.properties, $unmatchedEmail: d.leadRef.email }) };
}

const storedAnswer = (row: EventsTable): IngestResult => ({ eventId: row.id, leadId: row.lead_id, duplicate: false });
const duplicateAnswer = (prior: { id: string; lead_id: string | null }): IngestResult => ({ eventId: prior.id, leadId: prior.lead_id, duplicate: true });

/** The SQLite path, run synchronously inside a group commit. */
function storeWith(q: EventIngestStatements) {
  return (d: EventDraft): Stored => {
    let leadId: string | null = null;
    if (d.leadRef && 'leadId' in d.leadRef) {
      const lead = q.findLead(d.leadRef.leadId);
      if (!lead) return UNKNOWN_LEAD;
      leadId = lead.merged_into_id ?? lead.id;
    } else if (d.leadRef) leadId = q.findLeadIdByEmail(d.leadRef.email);
    const row = rowFor(d, leadId);
    if (q.append(row) || !row.dedupe_key) return storedAnswer(row);
    return duplicateAnswer(q.findByDedupeKey(row.dedupe_key)!);
  };
}

/** The same steps through Kysely, for a database without the raw SQLite handle. */
async function storeWithKysely(db: Db, d: EventDraft): Promise<Stored> {
  let leadId: string | null = null;
  if (d.leadRef && 'leadId' in d.leadRef) {
    const lead = await leadsRepo.findById(db, d.leadRef.leadId);
    if (!lead) return UNKNOWN_LEAD;
    leadId = lead.merged_into_id ?? lead.id;
  } else if (d.leadRef) leadId = (await leadsRepo.findIdsByIdentities(db, [d.leadRef.email], []))[0]?.lead_id ?? null;
  const row = rowFor(d, leadId);
  if ((await eventsRepo.append(db, row)) || !row.dedupe_key) return storedAnswer(row);
  return duplicateAnswer((await eventsRepo.findByDedupeKey(db, row.dedupe_key))!);
}

export type EventsService = ReturnType<typeof createEventsService>;
