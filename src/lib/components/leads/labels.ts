import { m } from '$lib/paraglide/messages';

/** Translated names for the lead vocabulary; unknown values fall back to the raw value. */
const stageLabels: Record<string, () => string> = {
  subscriber: m.leads_stage_subscriber,
  lead: m.leads_stage_lead,
  mql: m.leads_stage_mql,
  sql: m.leads_stage_sql,
  opportunity: m.leads_stage_opportunity,
  customer: m.leads_stage_customer,
  disqualified: m.leads_stage_disqualified,
  recycled: m.leads_stage_recycled
};

const sourceLabels: Record<string, () => string> = {
  form: m.leads_source_form,
  api: m.leads_source_api,
  import: m.leads_source_import,
  manual: m.leads_source_manual
};

const fieldLabels: Record<string, () => string> = {
  name: m.leads_field_name,
  email: m.leads_field_email,
  phone: m.leads_field_phone,
  company: m.leads_field_company,
  job_title: m.leads_field_job_title,
  company_size: m.leads_field_company_size,
  industry: m.leads_field_industry,
  city: m.leads_field_city,
  region: m.leads_field_region,
  country: m.leads_field_country,
  timezone: m.leads_field_timezone,
  stage: m.leads_field_stage,
  owner_id: m.leads_field_owner_id,
  consent_marketing: m.leads_field_consent_marketing,
  consent_tracking: m.leads_field_consent_tracking,
  attributes: m.leads_field_attributes,
  source: m.leads_field_source,
  channel_id: m.leads_field_channel
};

export const stageLabel = (s: string) => stageLabels[s]?.() ?? s;
export const sourceLabel = (s: string) => sourceLabels[s]?.() ?? s;
export const fieldLabel = (f: string) => fieldLabels[f]?.() ?? f;
