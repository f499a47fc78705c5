/**
 * The `acknowledge` worker: tells the customer we have their message — by email for email, by post for a
 * letter (a printable PDF sent to the print mailbox) — in plain words, saying what their arrangement
 * requires (when we will reply, the word limit, an earlier answer's date and reference) and, always, how to
 * report an emergency.
 *
 * Our acknowledgements are marked as automatic replies (RFC 3834): `Auto-Submitted: auto-replied`, a null
 * return path, `In-Reply-To`/`References` to the customer's message, and our loop header, so other
 * responders do not answer them and we recognise them if they come back.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { LOOP_HEADER } from '../channels/email/auto-reply';
import { MailTransportError } from '../channels/email/errors';
import type { OutboundMessage } from '../channels/email/mail-transport';
import { letterAcknowledgement } from '../config/letter-templates';
import { emailAcknowledgement } from '../config/templates/email-acknowledgement';
import { ACKNOWLEDGE_QUEUE, type AcknowledgeJobData } from './acknowledge-queue';
import type { EmailWorkerDeps } from './email-deps';
import { ourDomain } from './forward-worker';
import { QUEUE_PREFIX } from './queue-prefix';
import { formatDay, formatDayTime, letterTextStatus, ourMessageId, parseTriage, type TriageRecord } from './triage';

/** What one run did. */
export type AcknowledgeOutcome =
  | { status: 'sent'; kind: 'email' | 'letter'; covers: number }
  | { status: 'skipped'; reason: 'already-acknowledged' | 'not-processed' | 'no-address' };

/**
 * What an acknowledgement says about the word limit: the limit, and the count and verdict only where they are
 * true of the whole message. A letter read only in part keeps its "over the limit" verdict (the part read is
 * already over it) but its count is not the letter's length, so it is marked `partlyRead`; a letter not read
 * at all has no count and no verdict, only the limit.
 * @param t the triage record
 */
export function acknowledgementWordLimit(t: TriageRecord): { limit: number; words?: number; exceeded: boolean; partlyRead?: boolean } | undefined {
  const status = letterTextStatus(t);
  if (t.decision.wordLimit) {
    const { limit, words, exceeded } = t.decision.wordLimit;
    if (status === 'unreadable') return { limit, exceeded: false };
    return status === 'partial' ? { limit, words, exceeded, partlyRead: true } : { limit, words, exceeded };
  }
  if (t.wordLimitPending !== undefined) return { limit: t.wordLimitPending, exceeded: false };
  return undefined;
}

async function composeEmail(deps: EmailWorkerDeps, messageKey: string, t: TriageRecord, covers: number): Promise<OutboundMessage | undefined> {
  const to = t.replyTo ?? t.from;
  if (to === undefined) return undefined;
  const zone = deps.settings.timeZone;
  const d = t.decision;
  const limit = acknowledgementWordLimit(t);
  const content = emailAcknowledgement({
    ...(t.customerName ? { customerName: t.customerName } : {}),
    receivedOn: formatDay(t.receivedAt, zone),
    ...(t.subject ? { subject: t.subject } : {}),
    messageCount: covers,
    ...(t.ack.periodEndsAt ? { coversUntil: formatDayTime(t.ack.periodEndsAt, zone) } : {}),
    ...(d.respondAfter ? { respondBy: formatDay(d.respondAfter, zone) } : {}),
    ...(limit ? { wordLimit: limit } : {}),
    ...(d.repeatOf ? { repeatOf: { reference: d.repeatOf.reference, respondedOn: formatDay(d.repeatOf.respondedAt, zone) } } : {}),
    ...(t.routing.namedContactName ? { namedContact: t.routing.namedContactName } : {}),
    emergency: d.outcome === 'emergency',
    emergencyNumber: deps.settings.emergencyNumber,
    teamName: deps.settings.teamName,
  });
  const domain = ourDomain(deps);
  return {
    from: deps.settings.ackFrom,
    to: [to],
    subject: content.subject,
    text: content.text,
    headers: { 'Auto-Submitted': 'auto-replied', [LOOP_HEADER]: domain, 'X-Auto-Response-Suppress': 'All' },
    messageId: ourMessageId('ack', messageKey, domain),
    ...(t.messageId ? { inReplyTo: t.messageId, references: [...t.references.filter((r) => r !== t.messageId), t.messageId] } : {}),
    envelopeFrom: null,
  };
}

async function composeLetter(deps: EmailWorkerDeps, messageKey: string, t: TriageRecord): Promise<OutboundMessage | undefined> {
  const customerId = t.decision.customerId;
  if (customerId === undefined) return undefined;
  const zone = deps.settings.timeZone;
  const d = t.decision;
  const limit = acknowledgementWordLimit(t);
  const content = letterAcknowledgement({
    receivedOn: formatDay(t.receivedAt, zone),
    ...(d.respondAfter ? { respondBy: formatDay(d.respondAfter, zone) } : {}),
    ...(limit ? { wordLimit: limit } : {}),
    ...(d.repeatOf ? { repeatOf: { reference: d.repeatOf.reference, respondedOn: formatDay(d.repeatOf.respondedAt, zone) } } : {}),
    ...(t.routing.namedContactName ? { namedContact: t.routing.namedContactName } : {}),
    emergency: d.outcome === 'emergency',
    emergencyNumber: deps.settings.emergencyNumber,
  });
  const today = formatDay(deps.now().toISOString(), zone);
  const pdf = await deps.letters.renderLetterPdf({
    to: { name: t.customerName ?? customerId },
    date: today,
    reference: customerId,
    title: content.title,
    paragraphs: content.paragraphs,
  });
  const domain = ourDomain(deps);
  return {
    from: deps.settings.forwardFrom,
    to: [deps.settings.mailboxPrint],
    subject: `Print and post: acknowledgement of a letter from ${t.customerName ?? 'customer'} (${customerId})`,
    text:
      `Please print the attached letter and post it to ${t.customerName ?? 'the customer'} (${customerId}) at the address on their record.\n\n` +
      `It acknowledges their letter received on ${formatDay(t.receivedAt, zone)}.\n`,
    headers: { 'Auto-Submitted': 'auto-generated', [LOOP_HEADER]: domain, 'X-Gatekeeper-Customer': customerId },
    messageId: ourMessageId('ack', messageKey, domain),
    attachments: [{ filename: `acknowledgement-${customerId}.pdf`.replace(/[^\w.-]+/g, '-'), contentType: 'application/pdf', content: pdf }],
  };
}

/**
 * Sends one acknowledgement (the worker's processor; exported for tests).
 * @throws UnrecoverableError when the address refuses for good (recorded first); MailTransportError to retry
 */
export async function acknowledgeMessage(deps: EmailWorkerDeps, messageKey: string): Promise<AcknowledgeOutcome> {
  const meta = await deps.raw.meta(messageKey);
  const t = parseTriage(meta?.triage);
  if (meta === undefined || t === undefined) return { status: 'skipped', reason: 'not-processed' };
  if (meta.acknowledgedAt !== undefined) return { status: 'skipped', reason: 'already-acknowledged' };
  // Everything that arrived in this acknowledgement's period so far is covered by it.
  const covers = t.ack.gateId !== undefined && t.ack.periodEndsAt !== undefined ? Math.max(1, (await deps.raw.coveredSince(t.ack.gateId, Date.parse(t.receivedAt))).length) : 1;
  const message = t.channel === 'letter' ? await composeLetter(deps, messageKey, t) : await composeEmail(deps, messageKey, t, covers);
  if (message === undefined) return { status: 'skipped', reason: 'no-address' };
  try {
    await deps.mail.send(message);
  } catch (err) {
    if (err instanceof MailTransportError && err.permanent) {
      await deps.raw.update(messageKey, { status: 'acknowledgement-failed' });
      await deps.audit.appendOnce(`ack-failed-${messageKey}`, {
        actor: 'system',
        action: 'written-contact.acknowledgement-failed',
        entity: 'contact',
        entityId: messageKey,
        at: deps.now().toISOString(),
        details: { code: err.code, responseCode: err.responseCode ?? null, channel: t.channel },
      });
      deps.logger.warn('acknowledgement refused permanently', { messageKey, responseCode: err.responseCode });
      throw new UnrecoverableError(`acknowledgement refused permanently: ${err.message}`);
    }
    throw err;
  }
  await deps.raw.update(messageKey, { acknowledgedAt: deps.now().toISOString() });
  deps.logger.info('written contact acknowledged', { messageKey, kind: t.channel, covers });
  return { status: 'sent', kind: t.channel, covers };
}

/**
 * Starts the worker.
 * @param connection a createWorkerConnection connection
 * @param deps stores, transport and settings
 * @param concurrency acknowledgements sent at once (default 4)
 */
export function createAcknowledgeWorker(connection: ConnectionOptions, deps: EmailWorkerDeps, concurrency = 4): Worker<AcknowledgeJobData, AcknowledgeOutcome> {
  const worker = new Worker<AcknowledgeJobData, AcknowledgeOutcome>(ACKNOWLEDGE_QUEUE, (job: Job<AcknowledgeJobData>) => acknowledgeMessage(deps, job.data.messageKey), {
    connection,
    prefix: QUEUE_PREFIX,
    concurrency,
  });
  worker.on('failed', (job, err) => deps.logger.warn('acknowledge failed', { messageKey: job?.data.messageKey, attempts: job?.attemptsMade, err: err.message }));
  worker.on('error', (err) => deps.logger.warn('acknowledge worker error', { err: err.message }));
  return worker;
}
