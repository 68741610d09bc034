import { createHash, createVerify } from 'node:crypto';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP peer on a local port for tests and benchmarks (smtp-server), with scripted faults.
 * Every accepted message is kept as raw MIME and parsed (headers decoded from RFC 2047, text and
 * HTML parts decoded from quoted-printable / base64), so a test reads exactly what a mailbox
 * provider would have received. `parse: false` keeps only the Message-ID count (benchmarks).
 */

export interface MimePart {
  headers: MimeHeaders;
  contentType: string;
  /** Decoded body (text parts as UTF-8); empty for multipart containers. */
  body: string;
  parts: MimePart[];
}

export interface MimeHeaders {
  /** Raw header lines in order, unfolded: [name, value]. */
  list: [string, string][];
  /** The first value of a header, unfolded but still encoded. */
  raw(name: string): string | undefined;
  /** The first value with RFC 2047 words decoded. */
  get(name: string): string | undefined;
  all(name: string): string[];
}

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  raw: string;
  headers: MimeHeaders;
  messageId: string | undefined;
  subject: string | undefined;
  text: string | undefined;
  html: string | undefined;
  root: MimePart;
}

/** What the sink does with the next matching command instead of accepting it. */
export type SinkFault = { stage: 'mail' | 'rcpt' | 'data'; code: number; message: string } | { stage: 'data'; drop: true };

export interface SmtpSinkOptions {
  /** 0 picks a free port. */
  port?: number;
  /** Require AUTH with these credentials (PLAIN/LOGIN over plain TCP: a local test peer). */
  auth?: { user: string; pass: string };
  /** false: keep only counts by Message-ID, not the parsed messages (for benchmarks). */
  parse?: boolean;
}

export interface SmtpSink {
  port: number;
  /** smtp://[user:pass@]127.0.0.1:port */
  url: string;
  received: ReceivedMail[];
  /** Accepted messages by Message-ID header. */
  countsByMessageId: Map<string, number>;
  /** Messages accepted (250 after DATA). */
  accepted(): number;
  /** Connections opened so far. */
  connections(): number;
  /** Queues a fault for the next command at its stage (once each, in order). */
  fail(fault: SinkFault): void;
  /** Answers `code message` to every RCPT TO for this address, until the sink closes. */
  rejectRecipient(address: string, code: number, message: string): void;
  waitForAccepted(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const parse = options.parse ?? true;
  const received: ReceivedMail[] = [];
  const countsByMessageId = new Map<string, number>();
  const faults: SinkFault[] = [];
  const rejected = new Map<string, { code: number; message: string }>();
  let accepted = 0;
  let connections = 0;
  const waiters = new Set<() => void>();

  const takeFault = (stage: SinkFault['stage']) => {
    const i = faults.findIndex((f) => f.stage === stage);
    return i >= 0 ? faults.splice(i, 1)[0] : undefined;
  };
  const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

  const server: SMTPServer = new SMTPServer({
    logger: false,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    closeTimeout: 200,
    maxClients: 500,
    onConnect(_session, cb) {
      connections++;
      cb();
    },
    onAuth(auth, _session, cb) {
      if (auth.username === options.auth?.user && auth.password === options.auth?.pass) return cb(null, { user: auth.username });
      cb(smtpError(535, 'Authentication failed'));
    },
    onMailFrom(_address, _session, cb) {
      const f = takeFault('mail');
      cb(f && 'code' in f ? smtpError(f.code, f.message) : null);
    },
    onRcptTo(address, _session, cb) {
      const r = rejected.get(address.address.toLowerCase());
      if (r) return cb(smtpError(r.code, r.message));
      const f = takeFault('rcpt');
      cb(f && 'code' in f ? smtpError(f.code, f.message) : null);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const f = takeFault('data');
        if (f && 'drop' in f) return dropConnection(session);
        if (f) return cb(smtpError(f.code, f.message));
        const raw = Buffer.concat(chunks).toString('utf8');
        const messageId = parse ? undefined : /^message-id:[ \t]*(<[^>\r\n]*>)/im.exec(raw.slice(0, raw.indexOf('\r\n\r\n')))?.[1];
        const mail = parse ? toReceivedMail(raw, session) : undefined;
        const id = mail?.messageId ?? messageId ?? '(none)';
        countsByMessageId.set(id, (countsByMessageId.get(id) ?? 0) + 1);
        if (mail) received.push(mail);
        accepted++;
        for (const w of waiters) w();
        cb(null, 'OK: queued');
      });
    }
  });

  /** Ends the TCP connection without answering the DATA: "connection lost" to the client. */
  function dropConnection(session: SMTPServerSession) {
    for (const c of (server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }).connections) {
      if (c.id === session.id) c._socket.destroy();
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => {}); // a client that vanishes mid-session is not the sink's failure
  const port = (server.server.address() as { port: number }).port;
  const cred = options.auth ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@` : '';

  return {
    port,
    url: `smtp://${cred}127.0.0.1:${port}`,
    received,
    countsByMessageId,
    accepted: () => accepted,
    connections: () => connections,
    fail: (f) => faults.push(f),
    rejectRecipient: (address, code, message) => rejected.set(address.toLowerCase(), { code, message }),
    waitForAccepted(n, timeoutMs = 10_000) {
      if (accepted >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the sink accepted ${accepted} of ${n} messages in ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (accepted < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  };
}

function toReceivedMail(raw: string, session: SMTPServerSession): ReceivedMail {
  const root = parseMime(raw);
  const leaves = flatten(root);
  return {
    envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
    raw,
    headers: root.headers,
    messageId: root.headers.raw('message-id'),
    subject: root.headers.get('subject'),
    text: leaves.find((p) => p.contentType === 'text/plain')?.body,
    html: leaves.find((p) => p.contentType === 'text/html')?.body,
    root
  };
}

function flatten(p: MimePart): MimePart[] {
  return p.parts.length ? p.parts.flatMap(flatten) : [p];
}

/* ---------- a small MIME reader: enough for what nodemailer writes ---------- */

export function parseMime(raw: string): MimePart {
  const split = raw.indexOf('\r\n\r\n');
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split + 4);
  const headers = parseHeaders(head);
  const ctRaw = headers.raw('content-type') ?? 'text/plain; charset=utf-8';
  const contentType = ctRaw.split(';')[0].trim().toLowerCase();
  const params = headerParams(ctRaw);
  if (contentType.startsWith('multipart/') && params.boundary) {
    const delimiter = `--${params.boundary}`;
    const sections = body.split(new RegExp(`(?:^|\\r\\n)${escapeRegExp(delimiter)}(?:--)?[ \\t]*(?=\\r\\n|$)`));
    // sections[0] is the preamble, the last the epilogue after the closing delimiter
    const parts = sections.slice(1, -1).map((s) => parseMime(s.replace(/^\r\n/, '')));
    return { headers, contentType, body: '', parts };
  }
  const encoding = (headers.raw('content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const bytes = encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64') : encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : Buffer.from(body, 'utf8');
  return { headers, contentType, body: new TextDecoder(params.charset ?? 'utf-8').decode(bytes), parts: [] };
}

function parseHeaders(head: string): MimeHeaders {
  const list: [string, string][] = [];
  for (const line of head.split('\r\n')) {
    if (/^[ \t]/.test(line) && list.length) list[list.length - 1][1] += line;
    else {
      const i = line.indexOf(':');
      if (i > 0) list.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
    }
  }
  const all = (name: string) => list.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  return { list, all, raw: (name) => all(name)[0], get: (name) => (all(name)[0] === undefined ? undefined : decodeWords(all(name)[0])) };
}

function headerParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.matchAll(/;\s*([\w-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))/g)) out[m[1].toLowerCase()] = m[2] ?? m[3];
  return out;
}

/** RFC 2047: `=?charset?B|Q?text?=`; whitespace between adjacent encoded words is dropped. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?[^?]+\?[BbQq]\?[^?]*\?=)/g, '$1')
    .replace(/=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, enc: string, text: string) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQuotedPrintable(text.replace(/_/g, ' '));
      return new TextDecoder(charset).decode(bytes);
    });
}

function decodeQuotedPrintable(s: string): Buffer {
  const soft = s.replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      out.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...Buffer.from(soft[i], 'utf8'));
  }
  return Buffer.from(out);
}

function escapeRegExp(s: string) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/* ---------- DKIM: an independent check of what the sender signed (rsa-sha256, relaxed/relaxed) ---------- */

/**
 * Verifies the message's DKIM-Signature against a public key (PEM), the way a receiver does with
 * the key from DNS: relaxed header and body canonicalization (RFC 6376 §3.4.2, §3.4.4).
 * Answers the reason when it does not verify.
 */
export function verifyDkim(raw: string, publicKeyPem: string): { ok: true; domain: string; selector: string } | { ok: false; reason: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = parseHeaders(raw.slice(0, split));
  const sigValue = headers.raw('dkim-signature');
  if (!sigValue) return { ok: false, reason: 'no DKIM-Signature header' };
  const tags = Object.fromEntries(
    sigValue.split(';').map((t) => t.trim()).filter(Boolean).map((t) => [t.slice(0, t.indexOf('=')).trim(), t.slice(t.indexOf('=') + 1).replace(/\s+/g, '')])
  );
  if (tags.a !== 'rsa-sha256') return { ok: false, reason: `algorithm ${tags.a}` };
  const [hc, bc] = (tags.c ?? 'simple/simple').split('/');
  if (hc !== 'relaxed' || (bc ?? 'simple') !== 'relaxed') return { ok: false, reason: `canonicalization ${tags.c}` };

  const body = relaxedBody(raw.slice(split + 4));
  const bh = createHash('sha256').update(body).digest('base64');
  if (bh !== tags.bh) return { ok: false, reason: 'body hash mismatch' };

  // Each name in h= takes the next-lowest instance of that header (RFC 6376 §5.4.2).
  const used = new Map<string, number>();
  let signed = '';
  for (const name of tags.h.split(':')) {
    const lower = name.trim().toLowerCase();
    const values = headers.list.filter(([n]) => n.toLowerCase() === lower);
    const k = used.get(lower) ?? 0;
    used.set(lower, k + 1);
    const entry = values[values.length - 1 - k];
    if (entry) signed += `${lower}:${relaxedValue(entry[1])}\r\n`;
  }
  const sigHeader = headers.list.find(([n]) => n.toLowerCase() === 'dkim-signature')!;
  signed += `dkim-signature:${relaxedValue(sigHeader[1].replace(/(\bb=)[^;]*/, '$1'))}`;
  const ok = createVerify('RSA-SHA256').update(signed).verify(publicKeyPem, tags.b, 'base64');
  return ok ? { ok: true, domain: tags.d, selector: tags.s } : { ok: false, reason: 'signature does not verify' };
}

function relaxedValue(v: string) {
  return v.replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').trim();
}

function relaxedBody(body: string): string {
  const lines = body.split('\r\n').map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.length ? `${lines.join('\r\n')}\r\n` : '';
}
