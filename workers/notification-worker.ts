/**
 * The `notifications` worker: sends the customer's letter for a lifecycle transition, and staff notices.
 *
 * A letter goes to the print mailbox always (a PDF to print and post: large print when the customer's needs
 * ask for it, with a plain-text copy when they ask for that), and by email to the customer when they have an
 * address and prefer email or have no preference. Each part is remembered once handed over, so a retry after
 * the second part failed does not send the first again; the letter is then recorded on its restriction with
 * its PDF, and audited once.
 *
 * Delivery is at least once: a crash between handing a part over and remembering it sends that part again,
 * with the same Message-ID so the receiving side can tell. A permanent refusal of the customer's address is
 * recorded (the posted letter still goes); a permanent refusal of the print mailbox fails the job for good,
 * to be seen on the dashboard, because only configuration can fix it.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { renderLetterPdf, renderLetterText } from '../channels/letters/letter-pdf';
import { MailTransportError } from '../channels/email/errors';
import type { OutboundAttachment, OutboundMessage } from '../channels/email/mail-transport';
import type { Customer } from '../rules/types';
import { composeBreachNotice } from './breach-monitor';
import { composeMonthlyReportEmail } from './compliance-scheduler';
import type { LifecycleDeps, StaffMessage } from './lifecycle-deps';
import { letterIdFor, type LetterChannel, type StoredLetter } from './letter-store';
import { NOTIFICATIONS_QUEUE, type LetterJobData, type NoticeJobData, type NotificationJobData, type NotificationJobName, type StaffNotice } from './lifecycle-queues';
import { composeLetter, deliveryPlan, type ComposedLetter, type DeliveryPlan } from './notification-letters';
import { QUEUE_PREFIX } from './queue-prefix';
import { composeOverdueEscalation, composeReviewReminder, staffDirectory } from './review-scheduler';

/** What a letter job did. */
export type LetterOutcome =
  | { status: 'sent'; letter: StoredLetter }
  | { status: 'skipped'; reason: 'already-sent' | 'restriction-not-found' | 'customer-not-found' | 'no-letter' };

/** What a notice job did. */
export type NoticeOutcome = { status: 'sent'; messageId: string } | { status: 'skipped'; reason: 'already-sent' | 'no-longer-applies' };

/** The domain of an address, for our Message-IDs. */
function domainOf(address: string): string {
  return address.split('@')[1] ?? 'gatekeeper.invalid';
}

/** A Message-ID from parts that may hold any character (`%` is not allowed in one; `=` is). */
function messageId(parts: string[], domain: string): string {
  return `<${parts.map((p) => encodeURIComponent(p).replace(/%/g, '=')).join('.')}@${domain}>`;
}

/** Hands a message over; a permanent refusal is returned rather than thrown. */
async function deliver(deps: Pick<LifecycleDeps, 'mail'>, message: OutboundMessage): Promise<{ messageId: string } | { refused: MailTransportError }> {
  try {
    return { messageId: (await deps.mail.send(message)).messageId };
  } catch (err) {
    if (err instanceof MailTransportError && err.permanent) return { refused: err };
    throw err;
  }
}

function fileStem(composed: ComposedLetter): string {
  return `${composed.letter.reference ?? 'letter'}-${composed.kind}`.replace(/[^\w.-]+/g, '-');
}

/** The instructions for the print team. */
function printInstructions(composed: ComposedLetter, customer: Customer, plan: DeliveryPlan): string {
  const lines = [
    'Please print the attached letter and post it to the customer, first class, to the address on their tenancy record.',
    '',
    `Customer: ${customer.name} (${customer.id})`,
    `Letter: ${composed.letter.title} — ${composed.kind}, dated ${composed.letter.date}`,
    `Our reference: ${composed.letter.reference ?? ''}`,
    `Format: ${plan.largePrint ? 'LARGE PRINT (18 pt) — the customer’s needs ask for it; print at 100%, do not shrink to fit' : 'standard print (12 pt)'}`,
  ];
  if (plan.plainText) lines.push('A plain-text copy is attached because the customer’s needs ask for it (e.g. literacy support or a screen reader): send it with the letter, or by the means agreed with them.');
  if (plan.translations.length > 0) lines.push(`Translation needed (${plan.translations.join(', ')}): arrange a translated copy to go with the letter.`);
  lines.push(plan.emailTo ? 'The customer has also been sent this letter by email.' : 'The customer gets this letter by post only.');
  return lines.join('\n');
}

/**
 * Sends and records the letter of one transition.
 * @throws MailTransportError (transient) to be retried; UnrecoverableError when the print mailbox refuses for good
 */
export async function sendLetter(deps: LifecycleDeps, data: LetterJobData): Promise<LetterOutcome> {
  const letterId = letterIdFor(data.restrictionId, data.historyLength);
  if (await deps.letters.has(data.customerId, data.restrictionId, letterId)) return { status: 'skipped', reason: 'already-sent' };
  const restriction = await deps.store.restrictions.get(data.restrictionId);
  if (!restriction) return { status: 'skipped', reason: 'restriction-not-found' };
  const customer = await deps.store.customers.get(restriction.customerId);
  if (!customer) {
    deps.logger.warn('letter not sent: the customer is not on record', { restrictionId: restriction.id, customerId: restriction.customerId });
    return { status: 'skipped', reason: 'customer-not-found' };
  }
  const staff = await staffDirectory(deps);
  const composed = composeLetter({ restriction, historyLength: data.historyLength, customer, staff: (id) => staff.get(id), settings: deps.settings });
  if (!composed) return { status: 'skipped', reason: 'no-letter' };

  const plan = deliveryPlan(customer);
  const pdf = await renderLetterPdf({ ...composed.letter, largePrint: plan.largePrint });
  const text = renderLetterText(composed.letter);
  const stem = `${fileStem(composed)}${plan.largePrint ? '-large-print' : ''}`;
  const pdfAttachment: OutboundAttachment = { filename: `${stem}.pdf`, contentType: 'application/pdf', content: pdf };
  const headers = {
    'Auto-Submitted': 'auto-generated',
    'X-Gatekeeper-Letter': composed.kind,
    'X-Gatekeeper-Restriction': restriction.id,
    'X-Gatekeeper-Customer': customer.id,
  };
  const done = await deps.letters.sentParts(customer.id, restriction.id, letterId);
  const channels: LetterChannel[] = [];
  const refused: LetterChannel[] = [];

  const printDomain = domainOf(deps.settings.staffNoticesFrom);
  if (!done.has('print')) {
    const result = await deliver(deps, {
      from: deps.settings.staffNoticesFrom,
      to: [deps.settings.mailboxPrint],
      subject: `Print and post: ${composed.letter.title} — ${customer.id}, ref ${restriction.id}`,
      text: printInstructions(composed, customer, plan),
      headers,
      messageId: messageId(['letter', letterId, 'print'], printDomain),
      attachments: [pdfAttachment, ...(plan.plainText ? [{ filename: `${stem}.txt`, contentType: 'text/plain; charset=utf-8', content: Buffer.from(text, 'utf8') }] : [])],
    });
    if ('refused' in result) throw new UnrecoverableError(`the print mailbox refused the letter: ${result.refused.message}`);
    await deps.letters.markPartSent(customer.id, restriction.id, letterId, 'print', result.messageId);
    done.set('print', result.messageId);
  }
  channels.push('print');

  if (plan.emailTo) {
    if (!done.has('email')) {
      const result = await deliver(deps, {
        from: `${deps.settings.senderTeam} <${deps.settings.writeToEmail}>`,
        to: [plan.emailTo],
        subject: `${composed.letter.title} (our reference ${restriction.id})`,
        text,
        headers,
        messageId: messageId(['letter', letterId, 'email'], domainOf(deps.settings.writeToEmail)),
        attachments: [pdfAttachment],
      });
      const sent = 'refused' in result ? 'refused' : result.messageId;
      if ('refused' in result) deps.logger.warn('the customer’s mail server refused their letter; it goes by post', { restrictionId: restriction.id, letterId, code: result.refused.code });
      await deps.letters.markPartSent(customer.id, restriction.id, letterId, 'email', sent);
      done.set('email', sent);
    }
    if (done.get('email') === 'refused') refused.push('email');
    else channels.push('email');
  }

  const now = deps.now();
  const { letter, created } = await deps.letters.record(
    {
      id: letterId,
      restrictionId: restriction.id,
      customerId: customer.id,
      kind: composed.kind,
      transition: composed.transition.action,
      transitionAt: composed.transition.at,
      title: composed.letter.title,
      sentAt: now.toISOString(),
      channels,
      ...(refused.length > 0 ? { refused } : {}),
      variants: { largePrint: plan.largePrint, plainText: plan.plainText },
      messageIds: [...done.values()].filter((id) => id !== 'refused'),
    },
    pdf,
    now,
  );
  if (created) {
    await deps.store.audit.appendOnce(`letter.sent:${letterId}`, {
      actor: 'system',
      action: 'letter.sent',
      entity: 'restriction',
      entityId: restriction.id,
      at: now.toISOString(),
      details: { letterId, kind: composed.kind, channels: channels.join(','), ...(refused.length > 0 ? { refused: refused.join(',') } : {}) },
    });
    deps.logger.info('letter sent', { restrictionId: restriction.id, letterId, kind: composed.kind, channels });
  }
  return { status: 'sent', letter };
}

/** How long a sent notice is remembered: the breach notice for its period (once per period); others well past their dates. */
function noticeTtlSeconds(deps: Pick<LifecycleDeps, 'settings'>, notice: StaffNotice): number {
  switch (notice.kind) {
    case 'breach-threshold':
      return deps.settings.breachPeriodDays * 86_400;
    case 'reviews-overdue':
      return 30 * 86_400;
    default:
      return 400 * 86_400;
  }
}

async function composeNotice(deps: LifecycleDeps, notice: StaffNotice): Promise<StaffMessage | undefined> {
  switch (notice.kind) {
    case 'review-upcoming':
    case 'review-due':
      return composeReviewReminder(deps, notice);
    case 'reviews-overdue':
      return composeOverdueEscalation(deps, notice);
    case 'breach-threshold':
      return composeBreachNotice(deps, notice);
    case 'monthly-report':
      return composeMonthlyReportEmail(deps, notice);
  }
}

/**
 * Sends one staff notice, once.
 * @throws NoRecipientsError when nobody on record can receive it; MailTransportError (transient) to be retried
 */
export async function sendNotice(deps: LifecycleDeps, notice: StaffNotice): Promise<NoticeOutcome> {
  if (await deps.notices.wasSent(notice.noticeId)) return { status: 'skipped', reason: 'already-sent' };
  const message = await composeNotice(deps, notice);
  if (!message) return { status: 'skipped', reason: 'no-longer-applies' };
  const result = await deliver(deps, {
    from: deps.settings.staffNoticesFrom,
    to: message.to,
    subject: message.subject,
    text: message.text,
    ...(message.html ? { html: message.html } : {}),
    ...(message.attachments ? { attachments: message.attachments } : {}),
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Gatekeeper-Notice': notice.kind },
    messageId: messageId(['notice', notice.noticeId], domainOf(deps.settings.staffNoticesFrom)),
  });
  if ('refused' in result) throw new UnrecoverableError(`a staff mailbox refused the ${notice.kind} notice: ${result.refused.message}`);
  await deps.notices.markSent(notice.noticeId, { sentAt: deps.now().toISOString(), messageId: result.messageId }, noticeTtlSeconds(deps, notice));
  deps.logger.info('staff notice sent', { kind: notice.kind, noticeId: notice.noticeId, recipients: message.to.length });
  return { status: 'sent', messageId: result.messageId };
}

/** Runs one job of the notifications queue. */
export async function processNotificationJob(deps: LifecycleDeps, job: Job<NotificationJobData, unknown, NotificationJobName>): Promise<LetterOutcome | NoticeOutcome> {
  if (job.name === 'letter') return sendLetter(deps, job.data as LetterJobData);
  return sendNotice(deps, (job.data as NoticeJobData).notice);
}

/**
 * Starts the notifications worker.
 * @param connection a createWorkerConnection connection (waits through outages)
 */
export function createNotificationWorker(
  connection: ConnectionOptions,
  deps: LifecycleDeps,
  options: { concurrency?: number } = {},
): Worker<NotificationJobData, LetterOutcome | NoticeOutcome, NotificationJobName> {
  const worker = new Worker<NotificationJobData, LetterOutcome | NoticeOutcome, NotificationJobName>(NOTIFICATIONS_QUEUE, (job) => processNotificationJob(deps, job), {
    connection,
    prefix: QUEUE_PREFIX,
    // Rendering a PDF is quick; the relay is the bottleneck, and a small pool suits it.
    concurrency: options.concurrency ?? 2,
  });
  worker.on('failed', (job, err) => {
    deps.logger.warn('notification job failed', { jobId: job?.id, name: job?.name, attempts: job?.attemptsMade, error: err.message });
  });
  worker.on('error', (err) => deps.logger.error('notifications worker error', { error: err.message }));
  return worker;
}
