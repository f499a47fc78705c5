/**
 * The `digest` worker: at a response window, everything a customer sent that was held for it goes to their
 * named contact (or the default mailbox) as ONE message — each original attached unchanged, in order, under
 * a triage summary of each. A window with more mail than one message may carry (`MAX_MESSAGE_BYTES`) is
 * split into numbered parts. Messages are released from the window as each part is handed over, so a retry
 * sends only what is left.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { MailTransportError } from '../channels/email/errors';
import { digestBody } from '../config/templates/forward';
import { DIGEST_QUEUE, type DigestJobData } from './digest-queue';
import type { EmailWorkerDeps } from './email-deps';
import { originalAttachment, ourDomain, recordForwarded, recordForwardFailure } from './forward-worker';
import { QUEUE_PREFIX } from './queue-prefix';
import { formatDayTime, gatekeeperHeaders, ourMessageId, parseTriage, summaryInput, type TriageRecord } from './triage';

/** What one run did. */
export interface DigestOutcome {
  status: 'delivered' | 'empty';
  messages: number;
  parts: number;
}

interface HeldItem {
  messageKey: string;
  triage: TriageRecord;
  size: number;
}

/** Splits held messages into parts no larger than `limit` bytes of attachments (each part holds at least one). */
export function splitIntoParts<T extends { size: number }>(items: T[], limit: number): T[][] {
  const parts: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && bytes + item.size > limit) {
      parts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/**
 * Delivers one customer's digest for one window (the worker's processor; exported for tests).
 * @throws UnrecoverableError after a permanent refusal (recorded first); MailTransportError to retry
 */
export async function deliverDigest(deps: EmailWorkerDeps, customerId: string, windowMs: number): Promise<DigestOutcome> {
  const keys = await deps.raw.held(customerId, windowMs);
  const items: HeldItem[] = [];
  const done: string[] = [];
  for (const messageKey of keys) {
    const meta = await deps.raw.meta(messageKey);
    const triage = parseTriage(meta?.triage);
    if (meta === undefined || triage === undefined || meta.forwardedAt !== undefined) done.push(messageKey);
    else items.push({ messageKey, triage, size: meta.size });
  }
  await deps.raw.release(customerId, windowMs, done);
  if (items.length === 0) return { status: 'empty', messages: 0, parts: 0 };

  // Leave room for the summary and MIME overhead (base64 is not used for message/rfc822, but headers are).
  const parts = splitIntoParts(items, Math.floor(deps.settings.maxMessageBytes * 0.9));
  const domain = ourDomain(deps);
  const windowText = formatDayTime(new Date(windowMs).toISOString(), deps.settings.timeZone);
  const first = items[0]!.triage;
  // The latest triage names the current named contact (a restriction varied meanwhile routes to the new one).
  const latest = items[items.length - 1]!.triage;
  for (const [i, part] of parts.entries()) {
    const n = i + 1;
    const summaries = part.map((p) => summaryInput(p.triage, deps.settings.timeZone));
    const who = first.customerName ? `${first.customerName} (${customerId})` : customerId;
    const partLabel = parts.length > 1 ? ` — part ${n} of ${parts.length}` : '';
    const tag = latest.responseFrequency ? `[Restricted: ${latest.responseFrequency}]` : '[Restricted]';
    try {
      await deps.mail.send({
        from: deps.settings.forwardFrom,
        to: latest.routing.to,
        subject: `${tag} Digest: ${part.length} message${part.length === 1 ? '' : 's'} from ${who}, reply due ${windowText}${partLabel}`,
        text: digestBody(windowText, summaries, { n, of: parts.length }),
        headers: {
          ...gatekeeperHeaders(latest, domain),
          'X-Gatekeeper-Outcome': 'proceed',
          'X-Gatekeeper-Reasons': [...new Set(part.flatMap((p) => p.triage.decision.reasons))].join(','),
          'X-Gatekeeper-Customer': customerId,
        },
        messageId: ourMessageId('digest', `${customerId}.${windowMs}.${n}.${part[0]!.messageKey}`, domain),
        attachments: part.map((p, j) => originalAttachment(deps, p.messageKey, `original-${String(j + 1).padStart(2, '0')}.eml`)),
      });
    } catch (err) {
      if (err instanceof MailTransportError && err.permanent) {
        await recordForwardFailure(deps, part, err);
        throw new UnrecoverableError(`digest refused permanently: ${err.message}`);
      }
      throw err;
    }
    for (const p of part) await recordForwarded(deps, p.messageKey, p.triage);
    await deps.raw.release(customerId, windowMs, part.map((p) => p.messageKey));
  }
  deps.logger.info('digest delivered', { customerId, windowMs, messages: items.length, parts: parts.length });
  return { status: 'delivered', messages: items.length, parts: parts.length };
}

/**
 * Starts the worker.
 * @param connection a createWorkerConnection connection
 * @param deps stores, transport and settings
 */
export function createDigestWorker(connection: ConnectionOptions, deps: EmailWorkerDeps): Worker<DigestJobData, DigestOutcome> {
  const worker = new Worker<DigestJobData, DigestOutcome>(DIGEST_QUEUE, (job: Job<DigestJobData>) => deliverDigest(deps, job.data.customerId, job.data.windowMs), {
    connection,
    prefix: QUEUE_PREFIX,
    concurrency: 2,
  });
  worker.on('failed', (job, err) => deps.logger.warn('digest failed', { customerId: job?.data.customerId, windowMs: job?.data.windowMs, attempts: job?.attemptsMade, err: err.message }));
  worker.on('error', (err) => deps.logger.warn('digest worker error', { err: err.message }));
  return worker;
}
