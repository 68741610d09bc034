import addressparser from 'nodemailer/lib/addressparser';

/**
 * Header rules every transport applies: no line breaks anywhere a header is built from (a CR or
 * LF in a subject or display name would let a lead's input add headers or a body), a sender
 * parsed into name and address, and the stable Message-ID of a step.
 */
export class HeaderInjectionError extends Error {}

const LINE_BREAK = /[\r\n]/;

/** Throws HeaderInjectionError naming the field when a value carries CR or LF. */
export function assertNoLineBreaks(field: string, value: string | null | undefined) {
  if (value != null && LINE_BREAK.test(value)) throw new HeaderInjectionError(`${field} contains a line break (CR or LF): header injection refused`);
}

export interface Sender {
  name: string;
  address: string;
}

/**
 * `"Команда Nurture" <hello@example.ru>`, `Команда <hello@example.ru>` or a bare address. The
 * display name stays Unicode here; nodemailer encodes it as an RFC 2047 word on the wire.
 */
export function parseSender(value: string): Sender {
  assertNoLineBreaks('from', value);
  const parsed = addressparser(value, { flatten: true });
  const first = parsed[0];
  if (parsed.length !== 1 || !first?.address || !/^[^\s@<>]+@[^\s@<>]+$/.test(first.address)) throw new Error(`"${value}" is not a sender address like "Name <user@domain>"`);
  return { name: first.name ?? '', address: first.address };
}

/** The part of a Message-ID left of `@` may only hold RFC 5322 atext; anything else (and `=`) becomes `=XX`, so keys stay distinct. */
const ATEXT = /[A-Za-z0-9!#$%&'*+\-/?^_`{|}~]/;

/**
 * `<messageKey@domain>`: the same for every attempt of one step, so a receiver that sees a
 * second copy (a retry after a lost 250) can tell it is the same message. Effect keys hold `:`,
 * which is not allowed there, hence the escaping (`a:1:0` -> `a=3A1=3A0`).
 */
export function messageIdHeaderFor(messageKey: string, domain: string): string {
  let left = '';
  for (const ch of messageKey) {
    left += ATEXT.test(ch) ? ch : [...Buffer.from(ch, 'utf8')].map((b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  if (!/^[A-Za-z0-9.-]+$/.test(domain)) throw new Error(`"${domain}" is not a domain for a Message-ID`);
  return `<${left}@${domain}>`;
}

/** The domain for Message-IDs: DKIM's when signing, else the sender's. */
export function messageIdDomain(from: string, dkimDomain?: string | null): string {
  return dkimDomain || parseSender(from).address.split('@')[1];
}
