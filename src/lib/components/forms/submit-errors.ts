import { m } from '$lib/paraglide/messages';
import type { SubmitErrorCode } from '$lib/shared/forms';

/** A refusal in the visitor's language (the request's locale on the server). */
export function submitErrorText(code: SubmitErrorCode): string {
  switch (code) {
    case 'required':
      return m.forms_err_required();
    case 'invalid_email':
      return m.forms_err_email();
    case 'invalid_phone':
      return m.forms_err_phone();
    case 'contact_required':
      return m.forms_err_contact();
    case 'consent':
      return m.forms_err_consent();
    case 'too_long':
      return m.forms_err_too_long();
    case 'invalid_choice':
      return m.forms_err_choice();
    default:
      return m.forms_err_invalid();
  }
}

export function localizeErrors(codes: Record<string, SubmitErrorCode>): Record<string, string> {
  return Object.fromEntries(Object.entries(codes).map(([k, c]) => [k, submitErrorText(c)]));
}
