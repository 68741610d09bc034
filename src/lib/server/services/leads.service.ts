import { z } from 'zod';
import { leadsRepo } from '../repositories/leads.repo';
import { eventsRepo } from '../repositories/events.repo';
import { auditRepo } from '../repositories/audit.repo';
import { usersRepo } from '../repositories/users.repo';
import { channelsRepo } from '../repositories/channels.repo';
import { parseJson } from '../repositories/json';
import { settingsRepo } from '../repositories/settings.repo';
import { DEFAULT_HANDOFF_SETTINGS, HANDOFF_SETTINGS_KEY, handoffSettingsSchema, type GatedStage } from '../../shared/handoff';
import type { LeadsTable } from '../db/schema';
import { STAGES, TEXT_FIELDS, describeIssues, isTimeZone, normalizeEmail, normalizePhone, type Touch } from '../../shared/lead';
import type { LeadListQuery } from '../../shared/lead-query';
import { toCsvLine } from '../../shared/csv';
import { mergeRows, searchTextOf, type FieldChange } from './lead-merge';
import { InputError, NotFoundError, type Actor, type Deps } from './deps';

export interface LeadView {
  id: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  company: string | null;
  jobTitle: string | null;
  companySize: string | null;
  industry: string | null;
  city: string | null;
  region: string | null;
  country: string | null;
  timezone: string | null;
  attributes: Record<string, unknown>;
  stage: string;
  ownerId: string | null;
  ownerName: string | null;
  consentMarketing: boolean;
  consentTracking: boolean;
  source: string;
  channelId: string | null;
  channelName: string | null;
  firstTouch: Touch & { at?: number };
  lastTouch: Touch & { at?: number };
  fitScore: number;
  engagementScore: number;
  createdAt: number;
  updatedAt: number;
}

export function toLeadView(r: LeadsTable & { owner_name?: string | null; channel_name?: string | null }): LeadView {
  return {
    id: r.id,
    email: r.email,
    phone: r.phone,
    name: r.name,
    company: r.company,
    jobTitle: r.job_title,
    companySize: r.company_size,
    industry: r.industry,
    city: r.city,
    region: r.region,
    country: r.country,
    timezone: r.timezone,
    attributes: parseJson(r.attributes, {}),
    stage: r.stage,
    ownerId: r.owner_id,
    ownerName: r.owner_name ?? null,
    consentMarketing: !!r.consent_marketing,
    consentTracking: !!r.consent_tracking,
    source: r.source,
    channelId: r.channel_id,
    channelName: r.channel_name ?? null,
    firstTouch: parseJson(r.first_touch, {}),
    lastTouch: parseJson(r.last_touch, {}),
    fitScore: r.fit_score,
    engagementScore: r.engagement_score,
    createdAt: r.created_at,
    updatedAt: r.updated_at
  };
}

/** What the card's inline edit may change; email and phone are normalized as on capture. */
export const leadPatchSchema = z
  .object({
    email: z.string().max(254).nullable(),
    phone: z.string().max(32).nullable(),
    name: z.string().max(200).nullable(),
    company: z.string().max(200).nullable(),
    job_title: z.string().max(200).nullable(),
    company_size: z.string().max(50).nullable(),
    industry: z.string().max(100).nullable(),
    city: z.string().max(100).nullable(),
    region: z.string().max(100).nullable(),
    country: z.string().max(100).nullable(),
    timezone: z.string().max(64).nullable(),
    stage: z.enum(STAGES),
    owner_id: z.string().max(64).nullable(),
    consent_marketing: z.boolean(),
    consent_tracking: z.boolean(),
    attributes: z.record(z.string().max(64), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]))
  })
  .partial();
export type LeadPatch = z.input<typeof leadPatchSchema>;

export const EXPORT_COLUMNS = [
  'id', 'name', 'email', 'phone', 'company', 'job_title', 'company_size', 'industry', 'city', 'region',
  'country', 'timezone', 'stage', 'owner', 'source', 'channel', 'utm_source', 'utm_medium', 'utm_campaign',
  'fit_score', 'engagement_score', 'created_at'
] as const;

export function createLeadsService(deps: Deps) {
  const { db, clock, ids } = deps;

  async function requireLead(id: string, trx = db) {
    const lead = await leadsRepo.findById(trx, id);
    if (!lead) throw new NotFoundError('No such lead');
    if (lead.merged_into_id) throw new NotFoundError(`This lead was merged into ${lead.merged_into_id}`);
    return lead;
  }

  return {
    async list(q: LeadListQuery) {
      const { rows, total } = await leadsRepo.list(db, q);
      return { items: rows.map(toLeadView), total, page: q.page, pageSize: q.pageSize };
    },

    async get(id: string): Promise<{ lead: LeadView } | { mergedInto: string }> {
      const lead = await leadsRepo.findById(db, id);
      if (!lead) throw new NotFoundError('No such lead');
      if (lead.merged_into_id) return { mergedInto: lead.merged_into_id };
      const owner = lead.owner_id ? await usersRepo.findById(db, lead.owner_id) : undefined;
      const channel = lead.channel_id ? await channelsRepo.findById(db, lead.channel_id) : undefined;
      return {
        lead: toLeadView({ ...lead, owner_name: owner?.name ?? null, channel_name: channel?.name ?? null })
      };
    },

    timeline(id: string, before?: number) {
      return eventsRepo.listForLead(db, id, 200, before);
    },

    /** Inline edit from the card: validated, recorded as `field_changed` on the timeline. */
    async update(actor: Actor, id: string, raw: LeadPatch) {
      const parsed = leadPatchSchema.safeParse(raw);
      if (!parsed.success) throw new InputError(describeIssues(parsed.error));
      const p = parsed.data;
      const issues: { field: string; message: string }[] = [];
      const email = p.email ? normalizeEmail(p.email) : undefined;
      const phone = p.phone ? normalizePhone(p.phone) : undefined;
      if (email && !email.ok) issues.push({ field: 'email', message: email.reason });
      if (phone && !phone.ok) issues.push({ field: 'phone', message: phone.reason });
      if (p.timezone && !isTimeZone(p.timezone)) issues.push({ field: 'timezone', message: 'is not a known IANA time zone' });
      if (issues.length) throw new InputError(issues);
      return db.transaction().execute(async (trx) => {
        const lead = await requireLead(id, trx);
        const now = clock.now();
        const patch: Partial<LeadsTable> = {};
        const changes: FieldChange[] = [];
        const set = <K extends keyof LeadsTable>(k: K, v: LeadsTable[K]) => {
          if (lead[k] === v) return;
          patch[k] = v;
          changes.push({ field: k, from: lead[k], to: v });
        };
        if (p.email !== undefined) set('email', email?.ok ? email.value : null);
        if (p.phone !== undefined) set('phone', phone?.ok ? phone.value : null);
        for (const f of TEXT_FIELDS) if (p[f] !== undefined) set(f, p[f]?.trim() || null);
        if (p.stage !== undefined && p.stage !== lead.stage) {
          // Stages with required fields (BANT for SQL, the amount for an opportunity...) are
          // entered through the stage change form (handoff.changeStage), never by a plain edit.
          const stored = handoffSettingsSchema.safeParse(await settingsRepo.get(trx, HANDOFF_SETTINGS_KEY, DEFAULT_HANDOFF_SETTINGS));
          const required = (stored.success ? stored.data : DEFAULT_HANDOFF_SETTINGS).stageRequirements[p.stage as GatedStage] ?? [];
          if (required.length) throw new InputError([{ field: 'stage', message: `moving to ${p.stage} asks for ${required.join(', ')}: use “Change stage” on the lead card` }]);
          set('stage', p.stage);
        }
        if (p.owner_id !== undefined) {
          if (p.owner_id && !(await usersRepo.findById(trx, p.owner_id))) throw new InputError([{ field: 'owner_id', message: 'is not a user' }]);
          set('owner_id', p.owner_id);
        }
        if (p.consent_marketing !== undefined) set('consent_marketing', p.consent_marketing ? 1 : 0);
        if (p.consent_tracking !== undefined) set('consent_tracking', p.consent_tracking ? 1 : 0);
        if (p.attributes !== undefined) set('attributes', JSON.stringify(p.attributes));
        if ((patch.email === null || (patch.email === undefined && !lead.email)) && (patch.phone === null || (patch.phone === undefined && !lead.phone)))
          throw new InputError([{ field: 'email', message: 'a lead keeps an email or a phone' }]);
        if (changes.length === 0) return { changes };
        if (patch.email) {
          const owner = await leadsRepo.findIdsByIdentities(trx, [patch.email], []);
          if (owner.some((o) => o.lead_id !== id)) throw new InputError([{ field: 'email', message: 'belongs to another lead; merge them instead' }]);
        }
        if (patch.phone) {
          const owner = await leadsRepo.findIdsByIdentities(trx, [], [patch.phone]);
          if (owner.some((o) => o.lead_id !== id)) throw new InputError([{ field: 'phone', message: 'belongs to another lead; merge them instead' }]);
        }
        patch.updated_at = now;
        patch.search_text = searchTextOf({ ...lead, ...patch });
        await leadsRepo.update(trx, id, patch);
        await leadsRepo.addIdentities(trx, [
          ...(patch.email ? [{ kind: 'email' as const, value: patch.email, lead_id: id, created_at: now }] : []),
          ...(patch.phone ? [{ kind: 'phone' as const, value: patch.phone, lead_id: id, created_at: now }] : [])
        ]);
        for (const c of changes) {
          const type = c.field === 'stage' ? 'stage_changed' : c.field === 'owner_id' ? 'owner_changed' : 'field_changed';
          await eventsRepo.append(trx, {
            id: ids.newId(),
            lead_id: id,
            type,
            properties: JSON.stringify(c),
            source: 'manual',
            actor_id: actor.id,
            occurred_at: now,
            received_at: now,
            dedupe_key: null
          });
        }
        return { changes };
      });
    },

    /**
     * Folds `secondaryId` into `primaryId`: the secondary's events, identities and blanks move
     * over, the secondary row stays as a tombstone pointing at the survivor, and both the
     * timeline and the audit log record it.
     */
    async merge(actor: Actor, primaryId: string, secondaryId: string) {
      if (primaryId === secondaryId) throw new InputError([{ field: 'secondaryId', message: 'cannot merge a lead into itself' }]);
      return db.transaction().execute(async (trx) => {
        const primary = await requireLead(primaryId, trx);
        const secondary = await requireLead(secondaryId, trx);
        const now = clock.now();
        const { patch, changes } = mergeRows(primary, secondary, now);
        await eventsRepo.reassignLead(trx, secondaryId, primaryId);
        await leadsRepo.moveIdentities(trx, secondaryId, primaryId);
        await leadsRepo.update(trx, primaryId, patch);
        await leadsRepo.update(trx, secondaryId, { merged_into_id: primaryId, updated_at: now });
        await eventsRepo.append(trx, {
          id: ids.newId(),
          lead_id: primaryId,
          type: 'lead_merged',
          properties: JSON.stringify({ mergedLeadId: secondaryId, merged: toLeadView(secondary), changes }),
          source: 'manual',
          actor_id: actor.id,
          occurred_at: now,
          received_at: now,
          dedupe_key: null
        });
        await auditRepo.record(trx, ids.newId(), now, {
          actorId: actor.id,
          actorLabel: actor.label,
          action: 'lead.merge',
          entity: 'lead',
          entityId: primaryId,
          details: { mergedLeadId: secondaryId, email: secondary.email }
        });
        return { leadId: primaryId, changes };
      });
    },

    async remove(actor: Actor, id: string) {
      await db.transaction().execute(async (trx) => {
        const lead = await requireLead(id, trx);
        await leadsRepo.delete(trx, id);
        await auditRepo.record(trx, ids.newId(), clock.now(), {
          actorId: actor.id,
          actorLabel: actor.label,
          action: 'lead.delete',
          entity: 'lead',
          entityId: id,
          details: { email: lead.email, phone: lead.phone, name: lead.name }
        });
      });
    },

    /** The filtered list as CSV lines, page by page so a large export never sits in memory whole. */
    async *exportCsv(q: LeadListQuery): AsyncGenerator<string> {
      yield '\ufeff' + toCsvLine([...EXPORT_COLUMNS]) + '\r\n';
      for (let page = 1; ; page++) {
        const { rows } = await leadsRepo.list(db, { ...q, page, pageSize: 200 });
        for (const r of rows) {
          const v = toLeadView(r);
          yield toCsvLine([
            v.id, v.name, v.email, v.phone, v.company, v.jobTitle, v.companySize, v.industry, v.city, v.region,
            v.country, v.timezone, v.stage, v.ownerName, v.source, v.channelName, v.firstTouch.utm_source,
            v.firstTouch.utm_medium, v.firstTouch.utm_campaign, v.fitScore, v.engagementScore,
            new Date(v.createdAt).toISOString()
          ]) + '\r\n';
        }
        if (rows.length < 200) return;
      }
    }
  };
}

export type LeadsService = ReturnType<typeof createLeadsService>;
