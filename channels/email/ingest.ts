/**
 * The one door every inbound message comes through (the SMTP listener and `POST /inbound/email`): a
 * collected raw message goes to the durable store, which queues it for processing. Any failure becomes
 * `IngestError('store-unavailable')`: the sender is told to retry (451 / 503), never that we have it.
 */
import type { IngestOutcome, RawMessageInput } from '../../store/raw-messages';
import { IngestError } from './errors';
import type { CollectedMessage } from './raw-collector';

/** The store side of ingest (RawMessageStore satisfies it). */
export interface RawMessageSink {
  ingest(input: RawMessageInput): Promise<IngestOutcome>;
}

/** What the senders' adapters call. */
export interface EmailIngest {
  /**
   * Stores and queues one message; resolves once both are durable.
   * @param message the collected bytes and their message key
   * @param envelope where it came from; `mailFrom` is the SMTP envelope sender (`''` for a null return path)
   * @throws IngestError `store-unavailable` (answer 451 / 503)
   */
  ingest(message: CollectedMessage, envelope: { source: 'smtp' | 'http'; mailFrom?: string }): Promise<IngestOutcome>;
}

/** Options of {@link createEmailIngest}. */
export interface EmailIngestOptions {
  /**
   * The longest a sender is kept waiting for the store before being told to retry. A late success is
   * harmless: the retry is recognised as a duplicate. Default 10 000 ms.
   */
  timeoutMs?: number;
  /** The clock (tests). */
  now?: () => Date;
}

/**
 * Creates the ingest door over a raw-message store.
 * @param sink the store
 * @param options timeout and clock
 */
export function createEmailIngest(sink: RawMessageSink, options: EmailIngestOptions = {}): EmailIngest {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? (() => new Date());
  return {
    async ingest(message, envelope) {
      const input: RawMessageInput = {
        messageKey: message.messageKey,
        chunks: message.chunks,
        size: message.size,
        sha256: message.sha256,
        source: envelope.source,
        receivedAt: now(),
      };
      if (envelope.mailFrom !== undefined) input.mailFrom = envelope.mailFrom;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new IngestError('store-unavailable', `The message store did not answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        return await Promise.race([sink.ingest(input), timeout]);
      } catch (err) {
        if (err instanceof IngestError) throw err;
        throw new IngestError('store-unavailable', 'The message store is unavailable', { cause: err });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
