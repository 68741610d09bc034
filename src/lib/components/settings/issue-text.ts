import { m } from '$lib/paraglide/messages';

/**
 * The services name the field and give the reason in English; the screens show the reasons
 * they know in the UI's language and any other one as it came.
 */
const KNOWN: Record<string, () => string> = {
  'is required': () => m.users_issue_required(),
  'is not a valid email address': () => m.users_issue_email(),
  'must be at least 10 characters': () => m.users_issue_password_short(),
  'is taken': () => m.users_issue_email_taken(),
  'is taken by another channel': () => m.channels_issue_name_taken(),
  'must be after the start': () => m.channels_issue_end_before_start(),
  'is not a date': () => m.channels_issue_date(),
  'is not a number': () => m.channels_issue_amount(),
  self_lockout: () => m.users_self_lockout()
};

export function issueText(message: string | undefined): string {
  if (!message) return '';
  return KNOWN[message]?.() ?? message;
}
