/**
 * The outbound-mail port. Workers hand a {@link OutboundMessage} to a {@link MailTransport} and never
 * know whether it leaves over an SMTP relay or lands as an `.eml` file in the outbox: both adapters
 * pass one contract suite (test/integration/email-mail-transport.test.ts).
 */
import type { Readable } from 'node:stream';

/** A file attached to an outbound message. */
export interface OutboundAttachment {
  filename: string;
  contentType: string;
  /**
   * The bytes, or a stream read once — e.g. an original message streamed straight out of the
   * raw-message store, so a 25 MB original is never held in memory to forward it.
   */
  content: Buffer | Readable;
}

/** One message to send. Addresses are plain `name <addr>` or `addr` strings. */
export interface OutboundMessage {
  from: string;
  to: string[];
  cc?: string[];
  replyTo?: string;
  subject: string;
  text: string;
  html?: string;
  /**
   * Extra header fields, e.g. `X-Gatekeeper-Outcome`, `Auto-Submitted`. A field whose value is empty is
   * sent as an empty field (`Name: `), never left out.
   */
  headers?: Record<string, string>;
  /** Our own Message-ID (`<…@…>`); deterministic ids let a retried job be recognised downstream. */
  messageId?: string;
  inReplyTo?: string;
  references?: string[];
  attachments?: OutboundAttachment[];
  /**
   * The envelope sender (MAIL FROM). `null` sends with a null return path, as RFC 3834 §3.3 asks of
   * automatic responses so that a bounce of a bounce cannot loop. Defaults to the `from` address.
   */
  envelopeFrom?: string | null;
}

/** What a transport reports once the message has been handed over. */
export interface SentMail {
  /** The Message-ID the message went out with. */
  messageId: string;
  /** Recipients the next hop accepted. */
  accepted: string[];
  /** The outbox adapter's file path; absent for SMTP. */
  location?: string;
}

/** The port: hand a message to the next hop. Rejects with `MailTransportError` (see ./errors). */
export interface MailTransport {
  /** Which adapter this is, for logs and readiness. */
  readonly kind: 'smtp-relay' | 'outbox';
  /** Sends one message. Resolves once the next hop has taken responsibility for it. */
  send(message: OutboundMessage): Promise<SentMail>;
  /** Releases connections; the transport is unusable afterwards. */
  close(): Promise<void>;
}
