import { m } from '$lib/paraglide/messages';

/** The parts of a zod 4 issue the settings form reads. */
export interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  minimum?: unknown;
  maximum?: unknown;
  origin?: string;
}

/**
 * Zod's issues as `path -> message` in the UI's language. The shared schema is checked in the
 * browser before saving, so an admin sees every bad field at once, named, without a round trip.
 */
export function issueMessages(issues: readonly Issue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of issues) {
    const path = i.path.map(String).join('.');
    out[path || '(root)'] ??= localize(i, path);
  }
  return out;
}

function localize(i: Issue, path: string): string {
  const last = path.split('.').pop() ?? '';
  switch (i.code) {
    case 'too_small':
      return i.origin === 'array' ? m.inbox_err_pick_one() : i.origin === 'string' ? m.required() : m.inbox_err_min({ min: String(i.minimum) });
    case 'too_big':
      return i.origin === 'array' || i.origin === 'string' ? m.inbox_err_too_long() : m.inbox_err_max({ max: String(i.maximum) });
    case 'invalid_type':
      return m.inbox_err_number();
    case 'invalid_format':
      return last === 'start' || last === 'end' ? m.inbox_err_time() : /^\d+$/.test(last) ? m.inbox_err_date() : i.message;
    case 'custom':
      return last === 'timeZone' ? m.inbox_err_timezone() : last === 'end' ? m.inbox_err_end_after_start() : i.message;
    default:
      return i.message;
  }
}
