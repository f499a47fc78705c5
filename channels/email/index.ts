/**
 * The email channel: raw RFC 822 in, contacts out, mail to people and customers out again. Like every
 * channel adapter it translates and never decides (rules/decide.ts does).
 *
 * Inbound: `smtp-listener.ts` (the MX on SMTP_PORT) and gateway/inbound-routes.ts (`POST /inbound/email`)
 * collect a message (`raw-collector.ts`, keyed by `message-key.ts`) and hand it to `ingest.ts`, which
 * answers only once store/raw-messages.ts has it durably and a `process-message` job is queued.
 * `parse.ts` turns the stored bytes into what the gate needs; `auto-reply.ts` says whether RFC 3834 lets
 * us acknowledge it; `screen-pop.ts` tells agents' consoles.
 *
 * Outbound: the `MailTransport` port (`mail-transport.ts`) with two adapters chosen by `outbound.ts` —
 * an SMTP relay (`SMTP_RELAY_URL`) or `.eml` files in `<dataDir>/outbox`.
 *
 * The workers that tie these together are in workers/ (process-message, forward, digest, acknowledge).
 */
export { LOOP_HEADER, shouldAcknowledge, type AckSkipReason, type AckVerdict } from './auto-reply';
export { IngestError, MailTransportError, type IngestErrorCode, type MailTransportErrorCode } from './errors';
export { createEmailIngest, type EmailIngest, type EmailIngestOptions, type RawMessageSink } from './ingest';
export { messageKeyOf, normaliseMessageId, readHeaderBlock } from './message-key';
export { createMailTransport, createOutboxTransport, createSmtpRelayTransport, type MailTransport, type OutboundAttachment, type OutboundConfig, type OutboundMessage, type SentMail } from './outbound';
export { htmlToText, parseEmail, type ParsedAttachment, type ParsedEmail, type ParseOptions, type ParseProblem, type ReplyHeaders } from './parse';
export { RawCollector, type CollectedMessage } from './raw-collector';
export { needsScreenPop, publishWrittenScreenPop, writtenScreenPop, type WrittenScreenPopEvent } from './screen-pop';
export { isOurRecipient, smtpServerOptions, startSmtpListener, type SmtpListener, type SmtpListenerOptions } from './smtp-listener';
