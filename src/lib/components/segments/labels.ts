import { m } from '$lib/paraglide/messages';
import type { FieldOp } from '$lib/shared/segment';

/** Paraglide keys are generated functions; look them up by name for fields and operators. */
const messages = m as unknown as Record<string, (() => string) | undefined>;

export const fieldLabel = (field: string) => messages[`segments_f_${field}`]?.() ?? field;
export const opLabel = (op: FieldOp) => messages[`segments_op_${op}`]?.() ?? op;

/** Event types the builder offers; any other type can be typed in. */
export const COMMON_EVENTS = ['email_opened', 'email_clicked', 'page_viewed', 'form_submitted', 'webinar_attended', 'demo_requested', 'email_sent', 'unsubscribed', 'stage_changed'];
