import { sql, type RawBuilder } from 'kysely';
import { ACTIVITY_TYPES, fieldKind, type EventCondition, type FieldCondition, type SegmentCondition, type SegmentDefinition, type SegmentGroup } from '../../shared/segment';
import { normalizePagePath, pagePathSql } from './page-path';
import { nthRecentDay, RECENT_DAYS } from './recent-days';

/**
 * Compiles a segment definition to one SQL predicate over the `leads` table. Two shapes, the same
 * meaning:
 * - 'set' for counting the whole base: behaviour conditions become `leads.id IN (subquery)`,
 *   evaluated once per statement from the covering indexes of lead_event_stats;
 * - 'one' for re-evaluating a few leads: the same conditions as correlated lookups by lead id.
 * Every leaf is 0 or 1, never NULL (a missing field is "not equal", not "unknown"), so NOT, AND
 * and OR behave as people read them, and a contradiction simply matches nobody.
 * Text comparisons ignore case for Latin letters only (SQLite's lower() and NOCASE are ASCII).
 */
export type CompileMode = 'set' | 'one';
type Pred = RawBuilder<unknown>;

const DAY_MS = 86_400_000;
const TRUE: Pred = sql`1`;

function column(field: string): Pred {
  if (field.startsWith('attributes.')) return sql`json_extract(leads.attributes, ${'$.' + field.slice('attributes.'.length)})`;
  if (field.startsWith('utm_')) return sql`json_extract(leads.first_touch, ${'$.' + field})`;
  if (field === 'email_domain') return sql`substr(leads.email, instr(leads.email, '@') + 1)`;
  return sql.ref(`leads.${field}`);
}

const list = (values: unknown[]) => sql.join(values.map((v) => sql`${v}`));
const lowerList = (values: unknown[]) => sql.join(values.map((v) => sql`lower(${String(v)})`));

function fieldPred(c: FieldCondition, now: number): Pred {
  const kind = fieldKind(c.field);
  const col = column(c.field);
  const text = kind === 'text';
  const v = c.value;
  switch (c.op) {
    case 'eq':
      return text ? sql`${col} = ${String(v)} COLLATE NOCASE` : sql`${col} = ${v}`;
    case 'neq':
      return text ? sql`(${col} IS NULL OR ${col} != ${String(v)} COLLATE NOCASE)` : sql`(${col} IS NULL OR ${col} != ${v})`;
    case 'contains':
      return sql`instr(lower(${col}), lower(${String(v)})) > 0`;
    case 'not_contains':
      return sql`(${col} IS NULL OR instr(lower(${col}), lower(${String(v)})) = 0)`;
    case 'starts_with':
      return sql`substr(lower(${col}), 1, length(${String(v)})) = lower(${String(v)})`;
    case 'in':
      return text ? sql`lower(${col}) IN (${lowerList(c.values!)})` : sql`${col} IN (${list(c.values!)})`;
    case 'not_in':
      return text ? sql`(${col} IS NULL OR lower(${col}) NOT IN (${lowerList(c.values!)}))` : sql`(${col} IS NULL OR ${col} NOT IN (${list(c.values!)}))`;
    case 'is_set':
      return sql`(${col} IS NOT NULL AND ${col} != '')`;
    case 'is_empty':
      return sql`(${col} IS NULL OR ${col} = '')`;
    case 'gt':
      return sql`${col} > ${v}`;
    case 'gte':
      return sql`${col} >= ${v}`;
    case 'lt':
      return sql`${col} < ${v}`;
    case 'lte':
      return sql`${col} <= ${v}`;
    case 'between':
      return sql`${col} BETWEEN ${c.min} AND ${c.max}`;
    case 'is_true':
      return sql`${col} = 1`;
    case 'is_false':
      return sql`${col} = 0`;
    case 'within_days':
      return sql`${col} >= ${now - c.days! * DAY_MS}`;
    case 'older_than_days':
      return sql`${col} < ${now - c.days! * DAY_MS}`;
  }
}

/** Path range [p, p + U+FFFF): "starts with" that an index can seek. */
function pathRange(alias: string, path: string): Pred {
  const p = normalizePagePath(path);
  return sql`${sql.raw(alias)}.path >= ${p} AND ${sql.raw(alias)}.path < ${p + '\uffff'}`;
}

function eventPred(c: EventCondition, now: number, mode: CompileMode): Pred {
  const since = c.withinDays ? now - c.withinDays * DAY_MS : undefined;
  let pred: Pred;
  if (c.withinDays && c.min > 1 && !c.path && c.min <= RECENT_DAYS) {
    // "n times in the last D days": the lead's n-th latest day of the type is in the window (one
    // row per lead; recent-days.ts). Windows are whole UTC days (today and the D days before),
    // which is what people mean by it, the same as the day counters below.
    const day = Math.floor(since! / DAY_MS);
    const nth = nthRecentDay('s', c.min);
    pred =
      mode === 'one'
        ? sql`coalesce((SELECT ${nth} FROM lead_event_stats s WHERE s.lead_id = leads.id AND s.type = ${c.eventType} AND s.path = ''), -1) >= ${day}`
        : sql`leads.id IN (SELECT s.lead_id FROM lead_event_stats s WHERE s.type = ${c.eventType} AND s.path = '' AND s.n >= ${c.min} AND ${nth} >= ${day})`;
  } else if (c.withinDays && c.min > 1 && !c.path) {
    // More than the days kept per lead: sum the per-day counters of the window.
    const day = Math.floor(since! / DAY_MS);
    const where = sql`d.type = ${c.eventType} AND d.day >= ${day}`;
    pred =
      mode === 'one'
        ? // Keyed (type, day, lead_id) (migration 20261125T1730): one lead's window goes through its index.
          sql`coalesce((SELECT sum(d.n) FROM lead_event_days d INDEXED BY lead_event_days_lead WHERE d.lead_id = leads.id AND ${where}), 0) >= ${c.min}`
        : sql`leads.id IN (SELECT d.lead_id FROM lead_event_days d WHERE ${where} GROUP BY d.lead_id HAVING sum(d.n) >= ${c.min})`;
  } else if (c.withinDays && c.min > 1) {
    // Under a page path as well: no summary has both, so count the window's events.
    const path = c.path ? sql` AND ${sql.raw(pagePathSql('e'))} >= ${normalizePagePath(c.path)} AND ${sql.raw(pagePathSql('e'))} < ${normalizePagePath(c.path) + '\uffff'}` : sql``;
    const where = sql`e.type = ${c.eventType} AND e.occurred_at >= ${since} AND coalesce(json_extract(e.properties, '$.machine'), 0) NOT IN (1, 'true')${path}`;
    pred =
      mode === 'one'
        ? sql`(SELECT count(*) FROM events e WHERE e.lead_id = leads.id AND ${where}) >= ${c.min}`
        : sql`leads.id IN (SELECT e.lead_id FROM events e WHERE e.lead_id IS NOT NULL AND ${where} GROUP BY e.lead_id HAVING count(*) >= ${c.min})`;
  } else {
    const path = c.path ? pathRange('s', c.path) : sql`s.path = ''`;
    const where = sql`s.type = ${c.eventType} AND ${path}`;
    // One lead's rows under a path prefix: lead_event_stats is keyed (type, path, lead_id)
    // (migration 20261125T1720), and left to itself SQLite takes the key's path range, i.e. every
    // lead's rows under that path, for each lead evaluated. Without a path the key is exact.
    const oneLead = c.path ? sql`lead_event_stats s INDEXED BY lead_event_stats_lead` : sql`lead_event_stats s`;
    if (since !== undefined) {
      // At least once in the window: the latest one is in the window.
      pred =
        mode === 'one'
          ? sql`EXISTS (SELECT 1 FROM ${oneLead} WHERE s.lead_id = leads.id AND ${where} AND s.last_at >= ${since})`
          : sql`leads.id IN (SELECT s.lead_id FROM lead_event_stats s WHERE ${where} AND s.last_at >= ${since})`;
    } else if (c.path) {
      pred =
        mode === 'one'
          ? sql`coalesce((SELECT sum(s.n) FROM ${oneLead} WHERE s.lead_id = leads.id AND ${where}), 0) >= ${c.min}`
          : sql`leads.id IN (SELECT s.lead_id FROM lead_event_stats s WHERE ${where} GROUP BY s.lead_id HAVING sum(s.n) >= ${c.min})`;
    } else {
      pred =
        mode === 'one'
          ? sql`coalesce((SELECT s.n FROM lead_event_stats s WHERE s.lead_id = leads.id AND ${where}), 0) >= ${c.min}`
          : sql`leads.id IN (SELECT s.lead_id FROM lead_event_stats s WHERE ${where} AND s.n >= ${c.min})`;
    }
  }
  return c.negate ? sql`NOT (${pred})` : pred;
}

function conditionPred(c: SegmentCondition, now: number, mode: CompileMode): Pred {
  switch (c.kind) {
    case 'field':
      return sql`coalesce((${fieldPred(c, now)}), 0)`;
    case 'event':
      return eventPred(c, now, mode);
    case 'inactive': {
      const since = now - c.days * DAY_MS;
      // The '$activity' row holds the lead's last person-made event (migration 20261125T1410).
      // Inactive = that row is old, or there is none. The old rows are a short range of the
      // (type, path, last_at) index (most leads of a live base are active), and "none" is one
      // lookup in the primary key's own index per lead known long enough: no table row is read
      // (134 ms instead of 193 ms for 100,000 leads over 5 M events).
      const known = sql`leads.created_at < ${since}`;
      const none = sql`NOT EXISTS (SELECT 1 FROM lead_event_stats s WHERE s.lead_id = leads.id AND s.type = '$activity' AND s.path = '')`;
      return mode === 'one'
        ? sql`(${known} AND coalesce((SELECT s.last_at FROM lead_event_stats s WHERE s.lead_id = leads.id AND s.type = '$activity' AND s.path = ''), 0) < ${since})`
        : sql`(${known} AND (leads.id IN (SELECT s.lead_id FROM lead_event_stats s WHERE s.type = '$activity' AND s.path = '' AND s.last_at < ${since}) OR ${none}))`;
    }
    case 'in_flow': {
      const where = sql`wi.status = 'active' AND wi.workflow_id = (SELECT id FROM workflows WHERE slug = ${c.flow})${c.node ? sql` AND wi.current_node = ${c.node}` : sql``}`;
      const pred =
        mode === 'one'
          ? sql`EXISTS (SELECT 1 FROM workflow_instances wi WHERE wi.lead_id = leads.id AND ${where})`
          : sql`leads.id IN (SELECT wi.lead_id FROM workflow_instances wi WHERE ${where})`;
      return c.negate ? sql`NOT (${pred})` : pred;
    }
  }
}

function groupPred(g: SegmentGroup, now: number, mode: CompileMode): Pred {
  // An empty group puts no condition: a segment without conditions is every lead.
  if (!g.conditions.length) return TRUE;
  const parts = g.conditions.map((c) => (c.kind === 'group' ? groupPred(c, now, mode) : conditionPred(c, now, mode)));
  return sql`(${sql.join(parts, sql.raw(g.match === 'all' ? ' AND ' : ' OR '))})`;
}

/** The predicate for `SELECT ... FROM leads WHERE <it>`; `now` fixes every "last N days". */
export function compileSegment(def: SegmentDefinition, now: number, mode: CompileMode): Pred {
  return groupPred(def, now, mode);
}

/**
 * What can change a segment's answer for a lead. Event-driven keys: `field:<column>`, `score`,
 * `event:<type>`, `activity`. `timeDependent` segments can also change with time alone (windows,
 * decay of engagement, flow progress that raises no dispatched event): the periodic sweep
 * re-checks those, and only those.
 */
export interface SegmentDependencies {
  keys: Set<string>;
  timeDependent: boolean;
}

export function dependenciesOf(def: SegmentDefinition): SegmentDependencies {
  const keys = new Set<string>();
  let timeDependent = false;
  const visit = (c: SegmentCondition | SegmentGroup) => {
    switch (c.kind) {
      case 'group':
        c.conditions.forEach(visit);
        return;
      case 'field':
        if (c.field === 'fit_score' || c.field === 'engagement_score') keys.add('score');
        else if (c.field.startsWith('attributes.')) keys.add('field:attributes');
        else if (c.field.startsWith('utm_')) keys.add('field:first_touch');
        else if (c.field === 'email_domain') keys.add('field:email');
        else keys.add(`field:${c.field}`);
        if (c.field === 'engagement_score' || c.field === 'created_at') timeDependent = true;
        return;
      case 'event':
        keys.add(`event:${c.eventType}`);
        if (c.withinDays) timeDependent = true;
        return;
      case 'inactive':
        keys.add('activity');
        timeDependent = true;
        return;
      case 'in_flow':
        timeDependent = true;
        return;
    }
  };
  visit(def);
  return { keys, timeDependent };
}

/** Lead events after which every segment must look again (the lead is new or was rebuilt). */
const WHOLE_LEAD_EVENTS = new Set(['lead_created', 'lead_captured', 'lead_merged']);
const ACTIVITY = new Set<string>(ACTIVITY_TYPES);
const OWN_EVENTS = new Set(['segment_entered', 'segment_left']);

/** The dependency keys one dispatched event may have changed; '*' means all. */
export function keysChangedBy(type: string, props: Record<string, unknown>): string[] {
  if (WHOLE_LEAD_EVENTS.has(type)) return ['*'];
  // Our own entries and exits change nothing a segment reads (unless a segment names them).
  if (OWN_EVENTS.has(type)) return [`event:${type}`];
  // Scoring runs before us in the dispatcher and may have moved either score on any other event.
  const keys = [`event:${type}`, 'score'];
  if (ACTIVITY.has(type)) keys.push('activity');
  if (type === 'field_changed' && typeof props.field === 'string') keys.push(`field:${props.field}`);
  if (type === 'stage_changed') keys.push('field:stage');
  if (type === 'owner_changed') keys.push('field:owner_id');
  if (type === 'unsubscribed') keys.push('field:consent_marketing');
  return keys;
}
