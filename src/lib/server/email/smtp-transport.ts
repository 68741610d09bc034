import fs from 'node:fs';
import net from 'node:net';
import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { Config } from '../config';
import type { DeliveryResult, OutgoingMessage, Transport } from './contract';
import { assertNoLineBreaks, HeaderInjectionError, parseSender, type Sender } from './message-headers';

export interface DkimConfig {
  domainName: string;
  keySelector: string;
  /** PEM. */
  privateKey: string;
}

export interface SmtpConfig {
  /** smtp://user:pass@host:port (STARTTLS when offered) or smtps://… (TLS from the first byte). */
  url: string;
  /** The default sender when a message carries none: `"Name" <address>`. */
  from: string;
  /** Pooled connections (default 5). */
  poolSize?: number;
  /** Messages per second across the pool; 0 or unset = no limit. */
  ratePerSec?: number;
  dkim?: DkimConfig | null;
  /** Trust a self-signed certificate (a test server or a relay on the same host). */
  allowSelfSigned?: boolean;
  connectionTimeoutMs?: number;
  /** Inactivity on an open connection before the attempt counts as lost. */
  socketTimeoutMs?: number;
  /** TCP_NODELAY on the sockets (default true; false only to measure what Nagle costs). */
  noDelay?: boolean;
}

/** SMTP settings from the environment, or null when SMTP_URL is unset (delivery off). */
export function smtpConfigFromEnv(config: Config): SmtpConfig | null {
  if (!config.SMTP_URL) return null;
  const key = config.DKIM_PRIVATE_KEY ?? (config.DKIM_PRIVATE_KEY_FILE ? fs.readFileSync(config.DKIM_PRIVATE_KEY_FILE, 'utf8') : undefined);
  const dkim = config.DKIM_DOMAIN && config.DKIM_SELECTOR && key ? { domainName: config.DKIM_DOMAIN, keySelector: config.DKIM_SELECTOR, privateKey: key } : null;
  return { url: config.SMTP_URL, from: config.SMTP_FROM, poolSize: config.SMTP_POOL_SIZE, ratePerSec: config.SMTP_RATE_PER_SEC, dkim };
}

/**
 * Opens the TCP connection ourselves so Nagle's algorithm can be turned off: SMTP is a chatty
 * line protocol, and with Nagle on, each small command waits for the previous segment's delayed
 * ACK (about 22 messages/s per connection measured here, several hundred with TCP_NODELAY).
 * nodemailer then runs SMTP (and TLS for smtps) over the socket it is handed.
 */
function noDelaySocket(timeoutMs: number, noDelay: boolean): NonNullable<SMTPPool.Options['getSocket']> {
  return (options, callback) => {
    const socket = net.connect({ host: options.host ?? 'localhost', port: Number(options.port) });
    socket.setNoDelay(noDelay);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      callback(Object.assign(err, { code: 'ECONNECTION' }), null);
    };
    const timer = setTimeout(() => fail(new Error(`Connection timeout to ${options.host}:${options.port}`)), timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      callback(null, { connection: socket });
    });
  };
}

function poolOptions(config: SmtpConfig): SMTPPool.Options {
  const url = new URL(config.url);
  const secure = url.protocol === 'smtps:';
  const connectionTimeout = config.connectionTimeoutMs ?? 10_000;
  return {
    pool: true,
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 25,
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    maxConnections: config.poolSize ?? 5,
    // Reconnecting every 100 messages (nodemailer's default) costs a handshake for nothing.
    maxMessages: 10_000,
    ...(config.ratePerSec ? { rateDelta: 1000, rateLimit: config.ratePerSec } : {}),
    connectionTimeout,
    greetingTimeout: connectionTimeout,
    socketTimeout: config.socketTimeoutMs ?? 60_000,
    tls: config.allowSelfSigned ? { rejectUnauthorized: false } : undefined,
    getSocket: noDelaySocket(connectionTimeout, config.noDelay ?? true),
    dkim: config.dkim ?? undefined,
    disableFileAccess: true,
    disableUrlAccess: true
  };
}

/** Errors that say nothing about the message: the connection, DNS, TLS or our own credentials. */
const TEMPORARY_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EAUTH', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'EPROTOCOL']);

/**
 * 2xx ok; 4xx and a lost connection temporary; 5xx permanent. A hard bounce is a 5xx that says
 * the mailbox does not exist: enhanced status 5.1.x, or 550/551/553 without an enhanced status
 * (5.7.x on a 550 is a policy refusal, which says nothing about the address).
 */
export function classifySmtpError(err: { code?: string; responseCode?: number; response?: string; message?: string }): Extract<DeliveryResult, { ok: false }> {
  const response = err.response ?? err.message ?? 'unknown error';
  const code = err.responseCode;
  // A 535 to AUTH is our configuration, not the message: retried until an admin fixes it.
  if (err.code === 'EAUTH') return { ok: false, temporary: true, response: `authentication failed: ${response}` };
  if (code && code >= 400 && code < 500) return { ok: false, temporary: true, response };
  if (code && code >= 500 && code < 600) {
    const enhanced = /\b5\.(\d{1,3})\.\d{1,3}\b/.exec(response);
    const hardBounce = enhanced ? enhanced[1] === '1' : code === 550 || code === 551 || code === 553;
    return { ok: false, temporary: false, response, hardBounce };
  }
  return { ok: false, temporary: err.code ? TEMPORARY_CODES.has(err.code) : true, response };
}

/** Parsed senders by header text: a campaign sends thousands of messages from the same one or two. */
const senders = new Map<string, Sender>();
function senderOf(from: string): Sender {
  let s = senders.get(from);
  if (!s) {
    if (senders.size >= 100) senders.clear();
    s = parseSender(from);
    senders.set(from, s);
  }
  return s;
}

/** A message as nodemailer wants it, refusing CR/LF in every header value we set. */
function toMailOptions(m: OutgoingMessage, defaultFrom: Sender): nodemailer.SendMailOptions {
  assertNoLineBreaks('subject', m.subject);
  assertNoLineBreaks('to', m.to);
  assertNoLineBreaks('recipient name', m.toName);
  assertNoLineBreaks('Message-ID', m.messageIdHeader);
  for (const [name, value] of Object.entries(m.headers)) {
    if (!/^[A-Za-z0-9-]+$/.test(name)) throw new HeaderInjectionError(`header name "${name}" is not a plain token`);
    assertNoLineBreaks(`header ${name}`, value);
  }
  if (!/^<[^<>\s]+@[^<>\s]+>$/.test(m.messageIdHeader)) throw new HeaderInjectionError(`"${m.messageIdHeader}" is not a Message-ID like <key@domain>`);
  const from = m.from ? senderOf(m.from) : defaultFrom;
  return {
    from,
    to: m.toName ? { name: m.toName, address: m.to } : m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId: m.messageIdHeader,
    headers: m.headers,
    envelope: { from: from.address, to: [m.to] },
    disableFileAccess: true,
    disableUrlAccess: true
  };
}

/** Sends through a nodemailer SMTP pool; never throws for a delivery problem, it answers a DeliveryResult. */
export function createSmtpTransport(config: SmtpConfig): Transport {
  const defaultFrom = parseSender(config.from);
  const pool = nodemailer.createTransport(poolOptions(config));
  // The pool reports a broken idle connection as an event; each send's own error arrives with it.
  pool.on('error', () => {});
  return {
    name: 'smtp',
    async send(message) {
      let options: nodemailer.SendMailOptions;
      try {
        options = toMailOptions(message, defaultFrom);
      } catch (e) {
        return { ok: false, temporary: false, response: `refused before sending: ${e instanceof Error ? e.message : String(e)}` };
      }
      try {
        const info = await pool.sendMail(options);
        return { ok: true, response: info.response };
      } catch (e) {
        return classifySmtpError(e as Parameters<typeof classifySmtpError>[0]);
      }
    },
    async close() {
      pool.close();
    }
  };
}
