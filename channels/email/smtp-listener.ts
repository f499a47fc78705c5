/**
 * The inbound SMTP listener (`SMTP_PORT`), the MX for `SMTP_DOMAINS`.
 *
 * - Accepts RCPT only for our domains (550 otherwise): never an open relay.
 * - No AUTH (it is an MX: the world delivers to it unauthenticated); STARTTLS only when a certificate
 *   is configured.
 * - `MAX_MESSAGE_BYTES` is advertised (SIZE) and enforced on the stream: bytes are counted as they
 *   arrive, and an oversized message is drained and answered 552.
 * - 250 only once the message is durably stored and queued; 451 while it cannot be, so the sending
 *   server keeps it and retries. Nothing is ever accepted into memory only.
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { Logger } from '../../config/logger';
import type { EmailIngest } from './ingest';
import { RawCollector } from './raw-collector';

/** Options of {@link startSmtpListener}. */
export interface SmtpListenerOptions {
  /** `SMTP_PORT`; 0 picks a free port (tests). */
  port: number;
  /** Interface to bind. Default all interfaces. */
  host?: string;
  /** `SMTP_DOMAINS`: recipient domains we accept mail for. */
  domains: readonly string[];
  /** `MAX_MESSAGE_BYTES`. */
  maxMessageBytes: number;
  ingest: EmailIngest;
  logger?: Logger;
  /** PEM key and certificate: when given, STARTTLS is offered. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Host name in the greeting. Default the OS host name. */
  name?: string;
  /**
   * How long {@link SmtpListener.close} lets open sessions finish before answering them 421 and closing
   * them. A sending server may hold an idle connection open for minutes, so this must fit inside the
   * process's shutdown grace period. Default 30 000 ms (smtp-server's own default).
   */
  closeTimeoutMs?: number;
}

/** A running listener. */
export interface SmtpListener {
  /** The bound port. */
  readonly port: number;
  /** Stops accepting connections and waits for open sessions to end (at most `closeTimeoutMs`, then 421). */
  close(): Promise<void>;
}

/** An SMTP reply carried by an Error, as smtp-server expects. */
function reply(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

/**
 * Whether `address` is in one of `domains` (exact domain match, case-insensitive).
 * @param address a recipient address as given in RCPT TO
 */
export function isOurRecipient(address: string, domains: readonly string[]): boolean {
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const domain = address.slice(at + 1).toLowerCase().replace(/\.$/, '');
  return domains.some((d) => d.toLowerCase() === domain);
}

/**
 * Builds the smtp-server options (exported so the translation is testable without a socket).
 * @param options listener options
 */
export function smtpServerOptions(options: SmtpListenerOptions): SMTPServerOptions {
  const { ingest, logger, maxMessageBytes, domains } = options;
  const server: SMTPServerOptions = {
    name: options.name,
    banner: 'Gatekeeper',
    authOptional: true,
    disabledCommands: options.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    size: maxMessageBytes,
    disableReverseLookup: true,
    logger: false,
    maxClients: 200,
    // smtp-server treats 0 as "use the default": never pass it.
    ...(options.closeTimeoutMs !== undefined ? { closeTimeout: Math.max(1, options.closeTimeoutMs) } : {}),
    onRcptTo(address, _session, callback) {
      if (isOurRecipient(address.address, domains)) return callback();
      callback(reply(550, '5.7.1 Relaying denied: we accept mail only for our own domains'));
    },
    onData(stream, session, reply250or4xx) {
      // Answer exactly once, whether the stream ends, fails, or both.
      let answered = false;
      const callback = (err: Error | null, message?: string): void => {
        if (answered) return;
        answered = true;
        reply250or4xx(err, message);
      };
      const collector = new RawCollector(maxMessageBytes);
      stream.on('data', (chunk: Buffer) => collector.push(chunk));
      stream.once('error', (err) => {
        logger?.warn('smtp data stream failed', { session: session.id, err: err.message });
        callback(reply(451, '4.3.0 Error reading the message; please try again'));
      });
      stream.once('end', () => {
        if (collector.tooLarge || stream.sizeExceeded) {
          logger?.info('smtp message refused: too large', { session: session.id, bytes: collector.size, limit: maxMessageBytes });
          return callback(reply(552, `5.3.4 Message exceeds the maximum size of ${maxMessageBytes} bytes`));
        }
        const message = collector.finish();
        const mailFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        ingest.ingest(message, { source: 'smtp', mailFrom }).then(
          (outcome) => {
            logger?.info('smtp message accepted', { session: session.id, messageKey: outcome.messageKey, bytes: message.size, duplicate: outcome.duplicate });
            callback(null, `2.0.0 Queued as ${outcome.messageKey}`);
          },
          (err: unknown) => {
            logger?.warn('smtp message deferred: store unavailable', { session: session.id, err: (err as Error).message });
            callback(reply(451, '4.3.0 Temporary storage failure; please try again later'));
          },
        );
      });
    },
  };
  if (options.tls) {
    server.key = options.tls.key;
    server.cert = options.tls.cert;
  }
  return server;
}

/**
 * Starts the listener.
 * @param options port, domains, size limit and the ingest door
 * @returns the running listener (its bound port and `close`)
 */
export async function startSmtpListener(options: SmtpListenerOptions): Promise<SmtpListener> {
  const server = new SMTPServer(smtpServerOptions(options));
  server.on('error', (err) => options.logger?.warn('smtp listener error', { err: err.message }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
