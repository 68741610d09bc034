import type { HandoffService } from '$lib/server/services/handoff.service';

/** The shapes the inbox pages read, taken from the hand-off service so they cannot drift. */
export type InboxView = Awaited<ReturnType<HandoffService['inbox']>>;
export type InboxHandoff = InboxView['handoffs'][number];
export type RepTask = InboxView['tasks'][number];
export type BoardView = Awaited<ReturnType<HandoffService['board']>>;
export type BoardHandoff = BoardView['handoffs'][number];
export type BoardRep = BoardView['reps'][number];
export type LeadHandoff = Awaited<ReturnType<HandoffService['leadHandoffs']>>[number];
export type ReasonsReport = Awaited<ReturnType<HandoffService['rejectReasons']>>;

export { REJECT_REASONS, type RejectReason } from '$lib/shared/handoff';
export const BANT_FIELDS = ['budget', 'authority', 'need', 'timing'] as const;
export type BantField = (typeof BANT_FIELDS)[number];
