/**
 * MailTransport adapter: an SMTP relay (`SMTP_RELAY_URL`, e.g. `smtp://relay.internal:25` or
 * `smtps://user:pass@smtp.example.com`), through a small nodemailer connection pool.
 */
import nodemailer, { type NodemailerError } from 'nodemailer';
import { keepEmptyHeaders, toNodemailerOptions } from './compose';
import { MailTransportError } from './errors';
import type { MailTransport, OutboundMessage, SentMail } from './mail-transport';

/** Options of {@link createSmtpRelayTransport}. */
export interface SmtpRelayOptions {
  /** Connection URL understood by nodemailer (`smtp://`, `smtps://`, with optional credentials). */
  url: string;
  /** Pooled connections kept open to the relay. Default 3. */
  maxConnections?: number;
  /** Milliseconds to wait for a connection or reply. Default 30 000. */
  timeoutMs?: number;
}

/**
 * Translates a nodemailer error into a {@link MailTransportError}: a 5xx reply (other than 503, see
 * nodemailer's `isPermanentResponseCode`) is permanent; everything else — 4xx, timeouts, refused
 * connections — is transient and worth a retry.
 * @param err what nodemailer rejected with
 */
export function toMailTransportError(err: unknown): MailTransportError {
  const e = err as NodemailerError;
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const permanent = e.permanent === true || (e.permanent === undefined && responseCode !== undefined && responseCode >= 500 && responseCode !== 503);
  const summary = `${e.code ?? 'ERROR'}${responseCode !== undefined ? ` ${responseCode}` : ''}: ${e.message}`;
  return new MailTransportError(permanent ? 'EPERMANENT' : 'ETRANSIENT', summary, permanent, responseCode, { cause: err });
}

/**
 * Creates the SMTP relay adapter.
 * @param options relay URL and pool settings
 * @returns a MailTransport that sends over SMTP
 */
export function createSmtpRelayTransport(options: SmtpRelayOptions): MailTransport {
  const timeout = options.timeoutMs ?? 30_000;
  const transporter = nodemailer.createTransport({
    url: options.url,
    pool: true,
    maxConnections: options.maxConnections ?? 3,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  transporter.use('stream', keepEmptyHeaders);
  return {
    kind: 'smtp-relay',
    async send(message: OutboundMessage): Promise<SentMail> {
      try {
        const info = await transporter.sendMail(toNodemailerOptions(message));
        // With several recipients, nodemailer resolves when at least one was accepted; a partial
        // refusal is not a failure of the hand-over, and the refused ones are in `info.rejected`.
        return { messageId: info.messageId, accepted: [...info.accepted] };
      } catch (err) {
        throw toMailTransportError(err);
      }
    },
    async close(): Promise<void> {
      transporter.close();
    },
  };
}
