/**
 * Typed errors of the email channel. Each carries a stable string `code` (nodemailer style) so callers —
 * the SMTP listener, the HTTP route, the BullMQ workers — can switch on it without parsing messages.
 */

/** Codes of {@link MailTransportError}: why an outbound message did not leave. */
export type MailTransportErrorCode =
  /** The receiving server refused the message for good (SMTP 5xx other than 503): retrying cannot help. */
  | 'EPERMANENT'
  /** The receiving server asked us to try later (SMTP 4xx), or the connection failed: retry with backoff. */
  | 'ETRANSIENT'
  /** The outbox directory could not be written. */
  | 'EOUTBOX';

/** An outbound message could not be handed over. `permanent` tells a worker whether to give up. */
export class MailTransportError extends Error {
  override readonly name = 'MailTransportError';
  constructor(
    readonly code: MailTransportErrorCode,
    message: string,
    /** True when the same message would be refused again (the job must not be retried). */
    readonly permanent: boolean,
    /** The SMTP reply code, when a server answered. */
    readonly responseCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Codes of {@link IngestError}: why an inbound message could not be accepted. */
export type IngestErrorCode =
  /** Redis or the queue could not be reached: the sender must retry (SMTP 451, HTTP 503). */
  | 'store-unavailable'
  /** The message is larger than MAX_MESSAGE_BYTES (SMTP 552, HTTP 413). */
  | 'message-too-large'
  /** The body was empty. */
  | 'empty-message';

/** An inbound message was not durably stored; nothing was accepted, so nothing is lost. */
export class IngestError extends Error {
  override readonly name = 'IngestError';
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
