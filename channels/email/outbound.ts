/**
 * Outbound mail: the {@link MailTransport} port and the choice of adapter. With `SMTP_RELAY_URL` set,
 * mail goes to that relay; without it, to `.eml` files under `<dataDir>/outbox`, so `npm start` works
 * on a machine with no mail server.
 */
import { join } from 'node:path';
import type { MailTransport } from './mail-transport';
import { createOutboxTransport } from './outbox-transport';
import { createSmtpRelayTransport } from './smtp-relay-transport';

export type { MailTransport, OutboundAttachment, OutboundMessage, SentMail } from './mail-transport';
export { createOutboxTransport, type OutboxOptions } from './outbox-transport';
export { createSmtpRelayTransport, toMailTransportError, type SmtpRelayOptions } from './smtp-relay-transport';

/** What {@link createMailTransport} needs from configuration. */
export interface OutboundConfig {
  /** `SMTP_RELAY_URL`; when unset, the outbox adapter is used. */
  smtpRelayUrl?: string;
  /** The data directory (`./var` by default); the outbox is `<dataDir>/outbox`. */
  dataDir: string;
}

/**
 * Picks the adapter from configuration.
 * @param config relay URL (optional) and data directory
 * @returns the SMTP relay adapter when a relay is configured, else the outbox adapter
 */
export function createMailTransport(config: OutboundConfig): MailTransport {
  if (config.smtpRelayUrl !== undefined && config.smtpRelayUrl !== '') {
    return createSmtpRelayTransport({ url: config.smtpRelayUrl });
  }
  return createOutboxTransport({ directory: join(config.dataDir, 'outbox') });
}
