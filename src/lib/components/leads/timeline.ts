import { m } from '$lib/paraglide/messages';
import { UTM_KEYS } from '$lib/shared/lead';
import { fieldLabel, sourceLabel, stageLabel } from './labels';

/** A timeline event as the card receives it (the shape of eventsRepo's LeadEvent). */
export interface TimelineEvent {
  id: string;
  type: string;
  properties: Record<string, unknown>;
  source: string;
  actorId: string | null;
  occurredAt: number;
}

export interface Lookup {
  userName(id: string): string | undefined;
  channelName(id: string): string | undefined;
}

/** One line under an event's title. Always plain text: the card renders it escaped. */
export interface Detail {
  label: string;
  value: string;
}

export interface DescribedEvent {
  title: string;
  details: Detail[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function plain(v: unknown): string {
  if (v === null || v === undefined || v === '') return m.leads_empty_value();
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** A field's value in words: stage and owner by name, consent as yes/no. */
export function valueText(field: string, v: unknown, look: Lookup): string {
  if (v === null || v === undefined || v === '') return m.leads_empty_value();
  if (field === 'stage' && typeof v === 'string') return stageLabel(v);
  if (field === 'owner_id' && typeof v === 'string') return look.userName(v) ?? v;
  if (field === 'channel_id' && typeof v === 'string') return look.channelName(v) ?? v;
  if (field.startsWith('consent_')) return v ? m.leads_yes() : m.leads_no();
  return plain(v);
}

function changeDetails(changes: unknown, look: Lookup): Detail[] {
  if (!Array.isArray(changes)) return [];
  return changes.filter(isRecord).map((c) => {
    const field = String(c.field ?? '');
    return { label: fieldLabel(field), value: `${valueText(field, c.from, look)} → ${valueText(field, c.to, look)}` };
  });
}

function captureDetails(p: Record<string, unknown>, look: Lookup): Detail[] {
  const out: Detail[] = [];
  if (typeof p.source === 'string') out.push({ label: m.leads_field_source(), value: sourceLabel(p.source) });
  if (typeof p.channelId === 'string') out.push({ label: m.leads_field_channel(), value: look.channelName(p.channelId) ?? p.channelId });
  if (isRecord(p.touch)) {
    for (const k of [...UTM_KEYS, 'channel', 'referrer', 'page'])
      if (p.touch[k] !== undefined && p.touch[k] !== '') out.push({ label: k, value: plain(p.touch[k]) });
  }
  return out;
}

/** Turns any event into a title and detail lines in the UI's language; unknown types still show their data. */
export function describeEvent(e: TimelineEvent, look: Lookup): DescribedEvent {
  const p = e.properties ?? {};
  switch (e.type) {
    case 'lead_created':
      return { title: m.leads_ev_lead_created(), details: captureDetails(p, look) };
    case 'lead_captured': {
      const changes = changeDetails(p.changes, look);
      return { title: m.leads_ev_lead_captured(), details: [...captureDetails(p, look), ...(changes.length ? changes : [{ label: '', value: m.leads_ev_no_changes() }])] };
    }
    case 'form_submitted': {
      const details: Detail[] = [{ label: m.leads_ev_form_label(), value: plain(p.formSlug ?? p.formId) }];
      if (isRecord(p.fields)) for (const [k, v] of Object.entries(p.fields)) details.push({ label: fieldLabel(k), value: plain(v) });
      if (p.page) details.push({ label: m.leads_ev_page(), value: plain(p.page) });
      if (p.userAgent) details.push({ label: m.leads_ev_user_agent(), value: plain(p.userAgent) });
      return { title: m.leads_ev_form_submitted(), details };
    }
    case 'lead_merged': {
      const merged = isRecord(p.merged) ? p.merged : {};
      const who = merged.email ?? merged.phone ?? merged.name ?? p.mergedLeadId;
      return { title: m.leads_ev_lead_merged(), details: [{ label: '', value: m.leads_ev_merged_lead({ email: plain(who) }) }, ...changeDetails(p.changes, look)] };
    }
    case 'field_changed':
    case 'stage_changed':
    case 'owner_changed': {
      const title = e.type === 'stage_changed' ? m.leads_ev_stage_changed() : e.type === 'owner_changed' ? m.leads_ev_owner_changed() : m.leads_ev_field_changed();
      // Changes a workflow made say so, since no person is named under them.
      return { title, details: [...changeDetails([p], look), ...(p.by === 'workflow' ? [{ label: '', value: m.leads_ev_by_workflow() }] : [])] };
    }
    case 'workflow_enrolled':
    case 'workflow_step':
    case 'email_sent':
    case 'score_changed':
    case 'handoff_requested':
      return describeWorkflowEvent(e.type, p);
    default:
      return { title: m.leads_ev_other({ type: e.type }), details: Object.entries(p).map(([k, v]) => ({ label: k, value: plain(v) })) };
  }
}

/** The workflow engine's events: entering a flow, each step on its path, and what a step did. */
function describeWorkflowEvent(type: string, p: Record<string, unknown>): DescribedEvent {
  const flow: Detail[] = typeof p.workflow === 'string' && p.workflow ? [{ label: m.leads_ev_workflow(), value: p.workflow }] : [];
  switch (type) {
    case 'workflow_enrolled':
      return { title: m.leads_ev_workflow_enrolled(), details: [...flow, ...(p.trigger ? [{ label: m.leads_ev_started_by(), value: plain(p.by ? `${p.trigger} (${p.by})` : p.trigger) }] : [])] };
    case 'workflow_step': {
      const goal = typeof p.goal === 'string' ? p.goal : null;
      const step = goal ?? (p.kind ? `${plain(p.nodeId)} (${plain(p.kind)})` : plain(p.nodeId));
      return { title: goal ? m.leads_ev_workflow_goal() : m.leads_ev_workflow_step(), details: [...flow, { label: goal ? m.leads_ev_goal() : m.leads_ev_step(), value: step }] };
    }
    case 'email_sent':
      return { title: m.leads_ev_email_sent(), details: [{ label: m.leads_ev_subject(), value: plain(p.subject) }, { label: m.leads_ev_template(), value: plain(p.template) }] };
    case 'score_changed': {
      const score = p.score === 'fit' ? m.leads_ev_score_fit() : p.score === 'engagement' ? m.leads_ev_score_engagement() : plain(p.score);
      const points = typeof p.points === 'number' && p.points > 0 ? `+${p.points}` : plain(p.points);
      return {
        title: m.leads_ev_score_changed(),
        details: [{ label: score, value: `${plain(p.from)} → ${plain(p.to)} (${points})` }, ...(p.reason ? [{ label: m.leads_ev_reason(), value: plain(p.reason) }] : [])]
      };
    }
    default:
      return { title: m.leads_ev_handoff_requested(), details: flow };
  }
}
