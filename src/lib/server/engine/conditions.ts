import { durationMs, type Condition } from '../../shared/workflow';
import type { LeadFacts } from './facts';

/** Pure evaluation of a workflow condition against a lead's facts at a moment. */
export function evaluate(c: Condition, lead: LeadFacts | undefined, now: number): boolean {
  if (!lead) return false;
  switch (c.kind) {
    case 'all':
      return c.conditions.every((x) => evaluate(x, lead, now));
    case 'any':
      return c.conditions.some((x) => evaluate(x, lead, now));
    case 'stage': {
      const values = Array.isArray(c.value) ? c.value : [c.value];
      const hit = values.includes(lead.stage);
      return c.op === 'is_not' ? !hit : hit;
    }
    case 'score': {
      const v = c.score === 'fit' ? lead.fit : lead.engagement;
      return compare(v, c.op, c.value);
    }
    case 'field':
      return fieldMatches(lead.fields[c.field], c.op, c.value);
    case 'event': {
      const since = now - durationMs(c.within);
      const count = lead.events.filter(
        (e) => e.type === c.eventType && e.at >= since && e.at <= now && propertiesMatch(e.properties, c.filter)
      ).length;
      const hit = count >= (c.minCount ?? 1);
      return c.negate ? !hit : hit;
    }
  }
}

function compare(a: number, op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq', b: number) {
  switch (op) {
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'eq':
      return a === b;
  }
}

function fieldMatches(actual: unknown, op: Extract<Condition, { kind: 'field' }>['op'], expected: unknown): boolean {
  const empty = actual === null || actual === undefined || actual === '';
  switch (op) {
    case 'exists':
      return !empty;
    case 'not_exists':
      return empty;
    case 'eq':
      return !empty && String(actual).toLowerCase() === String(expected).toLowerCase();
    case 'neq':
      return empty || String(actual).toLowerCase() !== String(expected).toLowerCase();
    case 'contains':
      return !empty && String(actual).toLowerCase().includes(String(expected).toLowerCase());
    case 'in':
      return !empty && Array.isArray(expected) && expected.map((x) => String(x).toLowerCase()).includes(String(actual).toLowerCase());
    default: {
      const a = Number(actual);
      const b = Number(expected);
      return !empty && Number.isFinite(a) && Number.isFinite(b) && compare(a, op, b);
    }
  }
}

export function propertiesMatch(props: Record<string, unknown> | undefined, filter: Record<string, unknown> | undefined) {
  if (!filter) return true;
  return Object.entries(filter).every(([k, v]) => props !== undefined && String(props[k]) === String(v));
}

/** Event types a workflow's conditions look back at, so the executor loads only those. */
export function eventTypesIn(c: Condition, into = new Set<string>()): Set<string> {
  if (c.kind === 'event') into.add(c.eventType);
  if (c.kind === 'all' || c.kind === 'any') for (const x of c.conditions) eventTypesIn(x, into);
  return into;
}
