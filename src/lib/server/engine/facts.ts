/**
 * What the engine knows about a lead when it decides: passed in with every event, so guards
 * and delays stay pure functions of (context, event) and a replay decides the same way.
 */
export interface LeadFacts {
  id: string;
  stage: string;
  fit: number;
  engagement: number;
  /** Lead columns plus `attr:<name>` custom attributes. */
  fields: Record<string, unknown>;
  /** Recent events of the types the workflow's conditions mention, newest first. */
  events: { type: string; at: number; properties: Record<string, unknown> }[];
}

/** Every event fed to a workflow machine carries the time and the lead's facts. */
export interface EngineEvent {
  type: string;
  now: number;
  lead?: LeadFacts;
  properties?: Record<string, unknown>;
}

export const ENROLL_EVENT = 'wf.enroll';
/** Sent to running instances when the lead's fields, stage or scores change, so goals can fire. */
export const FACTS_CHANGED_EVENT = 'wf.facts_changed';
