/**
 * The `forward` worker: hands one message to a person — the emergency mailbox at once, the named contact,
 * or the default mailbox — with the `X-Gatekeeper-*` headers, a subject tag to filter on, a short triage
 * summary at the top, and the original attached unchanged (streamed from the raw-message store). A letter's
 * forward also says how far its text was read (`X-Gatekeeper-Letter-Text`), and one the gate could not
 * read in full says so in the subject and above the summary.
 *
 * Retried with exponential backoff while the relay is unavailable; a permanent refusal (SMTP 5xx) is
 * recorded on the contact (`forward-failed`), audited and logged, and ends the job for good.
 * Delivery is at least once: a crash between the hand-over and noting it sends again, with the same
 * Message-ID, so the receiving side can tell.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { MailTransportError } from '../channels/email/errors';
import type { OutboundAttachment } from '../channels/email/mail-transport';
import { forwardBody } from '../config/templates/forward';
import type { EmailWorkerDeps } from './email-deps';
import { FORWARD_QUEUE, type ForwardJobData } from './forward-queue';
import { QUEUE_PREFIX } from './queue-prefix';
import { gatekeeperHeaders, letterTextHeaders, ourMessageId, parseTriage, summaryInput, taggedSubject, type TriageRecord } from './triage';

/** What one run did. */
export type ForwardOutcome = { status: 'forwarded'; messageId: string } | { status: 'skipped'; reason: 'already-forwarded' | 'not-processed' | 'not-forwarded' };

/** Our domain, for Message-IDs and the loop header. */
export function ourDomain(deps: Pick<EmailWorkerDeps, 'settings'>): string {
  return deps.settings.domains[0] ?? 'gatekeeper.local';
}

/** The original message as an attachment, streamed (never held whole in memory). */
export function originalAttachment(deps: Pick<EmailWorkerDeps, 'raw'>, messageKey: string, filename = 'original.eml'): OutboundAttachment {
  return { filename, contentType: 'message/rfc822', content: deps.raw.openStream(messageKey) };
}

/**
 * Records that messages could not be forwarded for good: on the raw message, the recorded contact
 * (status `forward-failed`, visible to staff), and the audit log.
 */
export async function recordForwardFailure(deps: EmailWorkerDeps, items: Array<{ messageKey: string; triage: TriageRecord }>, err: MailTransportError): Promise<void> {
  for (const { messageKey, triage } of items) {
    await deps.raw.update(messageKey, { status: 'forward-failed' });
    await deps.contacts.update(triage.decision.customerId, messageKey, { status: 'forward-failed' }).catch((e: unknown) =>
      deps.logger.warn('could not mark the contact forward-failed', { messageKey, err: (e as Error).message }),
    );
    await deps.audit.appendOnce(`forward-failed-${messageKey}`, {
      actor: 'system',
      action: 'written-contact.forward-failed',
      entity: 'contact',
      entityId: messageKey,
      at: deps.now().toISOString(),
      details: { code: err.code, responseCode: err.responseCode ?? null, mode: triage.routing.mode },
    });
  }
  deps.logger.error('forward refused permanently', { messageKeys: items.map((i) => i.messageKey), code: err.code, responseCode: err.responseCode });
}

/** Notes a successful hand-over on the raw message and the recorded contact. */
export async function recordForwarded(deps: EmailWorkerDeps, messageKey: string, triage: TriageRecord): Promise<void> {
  await deps.raw.update(messageKey, { forwardedAt: deps.now().toISOString(), status: 'forwarded' });
  await deps.contacts.update(triage.decision.customerId, messageKey, { status: 'forwarded' }).catch((e: unknown) =>
    deps.logger.warn('could not mark the contact forwarded', { messageKey, err: (e as Error).message }),
  );
}

/**
 * Forwards one message (the worker's processor; exported for tests).
 * @throws UnrecoverableError after a permanent refusal (recorded first); MailTransportError to retry
 */
export async function forwardMessage(deps: EmailWorkerDeps, messageKey: string): Promise<ForwardOutcome> {
  const meta = await deps.raw.meta(messageKey);
  const triage = parseTriage(meta?.triage);
  if (meta === undefined || triage === undefined) return { status: 'skipped', reason: 'not-processed' };
  if (meta.forwardedAt !== undefined) return { status: 'skipped', reason: 'already-forwarded' };
  if (triage.routing.to.length === 0) return { status: 'skipped', reason: 'not-forwarded' };
  const domain = ourDomain(deps);
  const messageId = ourMessageId('fwd', messageKey, domain);
  try {
    await deps.mail.send({
      from: deps.settings.forwardFrom,
      to: triage.routing.to,
      subject: taggedSubject(triage),
      // A letter the gate could not read in full opens with a notice saying so (config/templates/forward.ts).
      text: forwardBody(summaryInput(triage, deps.settings.timeZone)),
      headers: { ...gatekeeperHeaders(triage, domain), ...letterTextHeaders(triage) },
      messageId,
      // Replies from staff go to the customer who wrote (letters are answered by post).
      ...(triage.channel === 'email' && (triage.replyTo ?? triage.from) ? { replyTo: (triage.replyTo ?? triage.from)! } : {}),
      attachments: [originalAttachment(deps, messageKey)],
    });
  } catch (err) {
    if (err instanceof MailTransportError && err.permanent) {
      await recordForwardFailure(deps, [{ messageKey, triage }], err);
      throw new UnrecoverableError(`forward refused permanently: ${err.message}`);
    }
    throw err;
  }
  await recordForwarded(deps, messageKey, triage);
  deps.logger.info('written contact forwarded', { messageKey, mode: triage.routing.mode });
  return { status: 'forwarded', messageId };
}

/**
 * Starts the worker.
 * @param connection a createWorkerConnection connection
 * @param deps stores, transport and settings
 * @param concurrency forwards sent at once (default 4)
 */
export function createForwardWorker(connection: ConnectionOptions, deps: EmailWorkerDeps, concurrency = 4): Worker<ForwardJobData, ForwardOutcome> {
  const worker = new Worker<ForwardJobData, ForwardOutcome>(FORWARD_QUEUE, (job: Job<ForwardJobData>) => forwardMessage(deps, job.data.messageKey), {
    connection,
    prefix: QUEUE_PREFIX,
    concurrency,
  });
  worker.on('failed', (job, err) => {
    const exhausted = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
    deps.logger.warn('forward failed', { messageKey: job?.data.messageKey, attempts: job?.attemptsMade, final: exhausted, err: err.message });
    // Out of retries on a transient error (the relay down for a day): make it visible like a refusal.
    if (exhausted && !(err instanceof UnrecoverableError) && job !== undefined) {
      void (async () => {
        const triage = parseTriage((await deps.raw.meta(job.data.messageKey))?.triage);
        if (triage) await recordForwardFailure(deps, [{ messageKey: job.data.messageKey, triage }], new MailTransportError('ETRANSIENT', err.message, false));
      })().catch(() => undefined);
    }
  });
  worker.on('error', (err) => deps.logger.warn('forward worker error', { err: err.message }));
  return worker;
}
