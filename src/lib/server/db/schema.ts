import type { Generated } from 'kysely';

/** Table types, hand-kept in one place and matched to db/migrations. Times are ms UTC. */
export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  role: string;
  is_manager: number;
  territory: string | null;
  specializations: string;
  locale: string;
  active: number;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_by: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: string;
  actor_id: string | null;
  actor_label: string;
  action: string;
  entity: string;
  entity_id: string | null;
  details: string;
  at: number;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface ChannelsTable {
  id: string;
  name: string;
  kind: string;
  utm_source: string | null;
  utm_medium: string | null;
  created_at: number;
}

export interface ChannelSpendTable {
  id: string;
  channel_id: string;
  period_start: number;
  period_end: number;
  amount_minor: number;
  currency: string;
  note: string | null;
  created_at: number;
}

export interface LeadsTable {
  id: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  company: string | null;
  job_title: string | null;
  company_size: string | null;
  industry: string | null;
  city: string | null;
  region: string | null;
  country: string | null;
  timezone: string | null;
  attributes: string;
  stage: string;
  owner_id: string | null;
  consent_marketing: number;
  consent_tracking: number;
  source: string;
  channel_id: string | null;
  first_touch: string;
  last_touch: string;
  fit_score: number;
  engagement_score: number;
  merged_into_id: string | null;
  search_text: string;
  created_at: number;
  updated_at: number;
  // Also reach_rank, customer_at, customer_revenue: kept by triggers on analytics_stage_changes
  // (db/migrations/20261125T1710_analytics_lead_reach.ts) for analytics' raw SQL only. Left out
  // of this type on purpose: the app never writes them, and rows copied as LeadsTable stay as they were.
}

export interface LeadIdentitiesTable {
  kind: 'email' | 'phone';
  value: string;
  lead_id: string;
  created_at: number;
}

export interface EventsTable {
  id: string;
  lead_id: string | null;
  type: string;
  properties: string;
  source: string;
  actor_id: string | null;
  occurred_at: number;
  received_at: number;
  dedupe_key: string | null;
}

export interface FormsTable {
  id: string;
  slug: string;
  name: string;
  title: string;
  fields: string;
  consent_text: string | null;
  submit_label: string | null;
  thank_you_text: string | null;
  redirect_url: string | null;
  channel_id: string | null;
  allowed_origins: string;
  active: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface ImportsTable {
  id: string;
  filename: string;
  channel_id: string | null;
  mapping: string;
  status: 'running' | 'done' | 'failed';
  total_rows: number;
  created_count: number;
  updated_count: number;
  rejected_count: number;
  progress: number;
  stopped_at_row: number | null;
  error: string | null;
  created_by: string | null;
  created_at: number;
  finished_at: number | null;
}

export interface ImportRejectsTable {
  import_id: string;
  row_number: number;
  field: string;
  reason: string;
  raw: string;
}

export interface DB extends EngineTables, ScoringTables, HandoffTables, SegmentTables, ScoringLabTables, DesignerTables, AnalyticsTables {
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  settings: SettingsTable;
  channels: ChannelsTable;
  channel_spend: ChannelSpendTable;
  leads: LeadsTable;
  lead_identities: LeadIdentitiesTable;
  events: EventsTable;
  forms: FormsTable;
  imports: ImportsTable;
  import_rejects: ImportRejectsTable;
}

/* Workflow engine (db/migrations/20261125T1000_workflows.ts) */
export interface WorkflowsTable {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'paused';
  current_version_id: string | null;
  trigger_type: string | null;
  trigger_key: string | null;
  created_at: number;
  updated_at: number;
}

export interface WorkflowVersionsTable {
  id: string;
  workflow_id: string;
  version: number;
  definition: string;
  published_by: string | null;
  published_at: number;
}

export interface WorkflowInstancesTable {
  id: string;
  workflow_id: string;
  version_id: string;
  lead_id: string;
  status: 'active' | 'finished' | 'goal' | 'exited' | 'failed';
  current_node: string | null;
  snapshot: string;
  version: number;
  awaiting: string | null;
  error: string | null;
  enrolled_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface WorkflowTimersTable {
  id: string;
  instance_id: string;
  timer_key: string;
  event: string;
  due_at: number;
  claimed_until: number | null;
}

export interface WorkflowOutboxTable {
  id: string;
  effect_key: string;
  instance_id: string;
  workflow_id: string;
  lead_id: string;
  node_id: string;
  kind: string;
  params: string;
  status: 'pending' | 'done' | 'failed';
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  result: string | null;
  created_at: number;
  done_at: number | null;
}

export interface MailboxMessagesTable {
  id: string;
  message_key: string;
  lead_id: string | null;
  to_address: string;
  subject: string;
  body_text: string;
  template: string | null;
  workflow_id: string | null;
  node_id: string | null;
  created_at: number;
  /** The HTML part (db/migrations/20261125T1110_email_delivery.ts); null for plain-text mail. */
  body_html: string | null;
}

export interface NotificationsTable {
  id: string;
  notice_key: string | null;
  user_id: string | null;
  role: string | null;
  lead_id: string | null;
  message: string;
  created_at: number;
  read_at: number | null;
}

export interface EmailTemplatesTable {
  id: string;
  slug: string;
  name: string;
  subject: string;
  /** Liquid plain-text body (the text part; also the HTML source when `html` is null). */
  body: string;
  locale: string;
  updated_at: number;
  preheader: string | null;
  html: string | null;
  /** marketing | transactional; defaults to marketing. */
  kind: Generated<string>;
  topic: string | null;
}

/* Email channel (db/migrations/20261125T1100_email.ts) */
export interface MessagesTable {
  id: string;
  message_key: string;
  lead_id: string | null;
  template: string | null;
  workflow_id: string | null;
  node_id: string | null;
  to_address: string;
  subject: string;
  kind: string;
  status: string;
  status_reason: string | null;
  smtp_message_id: string | null;
  smtp_response: string | null;
  attempts: number;
  created_at: number;
  sent_at: number | null;
  first_open_at: number | null;
  first_click_at: number | null;
  opens: number;
  machine_opens: number;
  clicks: number;
  machine_clicks: number;
  /** When the current (or last) send attempt started; a stale `sending` row is a crashed attempt. */
  attempt_started_at: number | null;
}

export interface MessageLinksTable {
  id: string;
  message_id: string;
  position: number;
  url: string;
}

export interface SuppressionsTable {
  email: string;
  reason: string;
  source: string | null;
  created_at: number;
}

export interface EmailPreferencesTable {
  lead_id: string;
  topic: string;
  subscribed: number;
  updated_at: number;
}

export interface EngineTables {
  email_templates: EmailTemplatesTable;
  messages: MessagesTable;
  message_links: MessageLinksTable;
  suppressions: SuppressionsTable;
  email_preferences: EmailPreferencesTable;
  workflows: WorkflowsTable;
  workflow_versions: WorkflowVersionsTable;
  workflow_instances: WorkflowInstancesTable;
  workflow_timers: WorkflowTimersTable;
  workflow_outbox: WorkflowOutboxTable;
  mailbox_messages: MailboxMessagesTable;
  notifications: NotificationsTable;
}

/* Scoring (db/migrations/20261125T1150_scoring.ts) */
export interface ScoringRulesTable {
  id: string;
  kind: 'fit' | 'engagement';
  name: string;
  /** The whole rule as JSON, checked by scoringRuleSchema in lib/shared/scoring.ts. */
  definition: string;
  position: number;
  updated_at: number;
}

export interface ScoreLedgerTable {
  id: string;
  lead_id: string;
  score: 'fit' | 'engagement';
  rule_id: string | null;
  rule_name: string;
  points: number;
  /** The score after this change. */
  total: number;
  reason: string;
  event_id: string | null;
  at: number;
}

export interface LeadEngagementTable {
  lead_id: string;
  /** Last scored activity; decay counts from here. */
  engaged_at: number;
  /** Engagement right after that activity: the value that halves every half-life. */
  base: number;
}

export interface ScoringTables {
  scoring_rules: ScoringRulesTable;
  score_ledger: ScoreLedgerTable;
  lead_engagement: LeadEngagementTable;
}

/* Hand-off (db/migrations/20261125T1300_handoffs.ts) */
export interface HandoffsTable {
  id: string;
  lead_id: string;
  owner_id: string | null;
  status: 'open' | 'accepted' | 'rejected' | 'recycled' | 'reassigned';
  /** The routing rule that chose the owner. */
  rule: string;
  /** 1 = first assignment; each reassignment opens the next attempt. */
  attempt: number;
  assigned_at: number;
  /** SLA deadline in ms, business hours already applied. */
  due_at: number;
  first_action_at: number | null;
  reminded_at: number | null;
  escalated_at: number | null;
  breached: number;
  /** Reject reason code: bad_fit | no_budget | wrong_contact | duplicate | other. */
  reason: string | null;
  note: string | null;
  follow_up_at: number | null;
  closed_at: number | null;
  /** JSON: why the lead qualified. */
  summary: string;
  created_at: number;
  updated_at: number;
}

export interface RepTasksTable {
  id: string;
  owner_id: string;
  lead_id: string;
  handoff_id: string | null;
  kind: 'call_back' | 'follow_up';
  due_at: number;
  note: string | null;
  done_at: number | null;
  /** When the rep was emailed that the task is due. */
  notified_at: number | null;
  created_at: number;
}

export interface HandoffTables {
  handoffs: HandoffsTable;
  rep_tasks: RepTasksTable;
}

/* Segments (db/migrations/20261125T1400_segments.ts) */
export interface SegmentsTable {
  id: string;
  name: string;
  description: string | null;
  kind: 'dynamic' | 'static';
  /** The definition as JSON (segmentDefinitionSchema in lib/shared/segment.ts); null for static lists. */
  definition: string | null;
  member_count: number;
  status: 'ready' | 'computing';
  /** Share of leads the running full recompute has covered, 0..1. */
  progress: number;
  last_full_at: number | null;
  last_sweep_at: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface SegmentMembersTable {
  segment_id: string;
  lead_id: string;
  entered_at: number;
}

/**
 * Per lead and type (and page path for page views), how many and when last; counted by the
 * dispatcher, corrected by triggers. WITHOUT ROWID, keyed (type, path, lead_id) since 20261125T1720.
 */
export interface LeadEventStatsTable {
  lead_id: string;
  type: string;
  /** '' for all events of the type; a page view's normalized path otherwise. */
  path: string;
  n: number;
  last_at: number;
  /** Path '' rows of real types: UTC days of the latest counted events, newest first (JSON; segments/recent-days.ts). */
  recent: string | null;
}

/** Events per lead, type and UTC day (db/migrations/20261125T1410_segment_activity.ts; WITHOUT ROWID keyed (type, day, lead_id) since 20261125T1730). */
export interface LeadEventDaysTable {
  lead_id: string;
  type: string;
  day: number;
  n: number;
}

export interface SegmentTables {
  segments: SegmentsTable;
  segment_members: SegmentMembersTable;
  /** Also holds one row per lead with type '$activity': its last person-made event (ACTIVITY_TYPES). */
  lead_event_stats: LeadEventStatsTable;
  lead_event_days: LeadEventDaysTable;
}

/* Scoring lab (db/migrations/20261125T1350_scoring_lab.ts) */
export interface ScoringRuleSetsTable {
  id: string;
  version: number;
  /** JSON: ScoringRule[] */
  rules: string;
  /** JSON: ScoringSettings */
  settings: string;
  note: string;
  restored_from: number | null;
  created_by: string | null;
  created_label: string;
  created_at: number;
}

export interface RescoreJobsTable {
  id: string;
  rule_set_id: string;
  status: 'running' | 'done' | 'failed';
  total: number;
  processed: number;
  changed: number;
  ledger_rows: number;
  became_mql: number;
  left_mql: number;
  error: string | null;
  started_by: string | null;
  started_at: number;
  finished_at: number | null;
}

export interface ScoringLabTables {
  scoring_rule_sets: ScoringRuleSetsTable;
  rescore_jobs: RescoreJobsTable;
}

/* Designer drafts (db/migrations/20261125T1200_workflow_drafts.ts) */
export interface WorkflowDraftsTable {
  workflow_id: string;
  /** JSON: the draft definition, possibly half-built */
  definition: string;
  revision: number;
  updated_by: string | null;
  updated_label: string;
  updated_at: number;
}

export interface DesignerTables {
  workflow_drafts: WorkflowDraftsTable;
}

/* Analytics (db/migrations/20261125T1500_analytics.ts): every stage_changed event taken apart, kept by triggers on events. */
export interface AnalyticsStageChangesTable {
  event_id: string;
  lead_id: string;
  from_stage: string | null;
  to_stage: string;
  /** scoring | user | workflow | handoff */
  by_whom: string | null;
  /** Rubles, on a change to customer. */
  amount: number | null;
  at: number;
}

export interface AnalyticsTables {
  analytics_stage_changes: AnalyticsStageChangesTable;
}
