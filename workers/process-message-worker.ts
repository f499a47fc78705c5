/**
 * The `process-message` worker: one stored message → parsed, identified, decided, recorded, and handed on.
 *
 *   raw (Redis) → parse (stream) → identify (sender address; for the scanning bureau, the customer
 *   reference in the subject or the letter's text) → decide (rules/decide.ts) → record the contact and
 *   audit it → screen-pop → triage record → forward now, or hold for the response window's digest →
 *   acknowledgement, at most one per customer per period (emergencies excepted), never to a robot.
 *
 * Idempotent by message key at every step: the raw message's `processedAt` ends the job early on a re-run;
 * recording and auditing are once-only by key; the forward, digest and acknowledgement jobs have
 * deterministic ids; the acknowledgement gate is won again by the same message on a retry. A crash part-way
 * through re-runs the whole job, which then completes what is missing.
 */
import { createHash } from 'node:crypto';
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { shouldAcknowledge } from '../channels/email/auto-reply';
import { readHeaderBlock } from '../channels/email/message-key';
import { parseEmail, type ParsedEmail } from '../channels/email/parse';
import { needsScreenPop, publishWrittenScreenPop, writtenScreenPop } from '../channels/email/screen-pop';
import { responseFrequencyWords } from '../config/templates/forward';
import { decide, isEmergencyContact } from '../rules/decide';
import { detectEmergency } from '../rules/emergency';
import { isEnforceable } from '../rules/lifecycle';
import type { Contact, Decision, GateSnapshot, Identification } from '../rules/types';
import { normaliseEmail } from '../store/identity';
import { isSafeId } from '../store/keys';
import { RawMessageMissingError, type RawMessageMeta } from '../store/raw-messages';
import type { StoredContact } from '../store/types';
import { acknowledgeJobId } from './acknowledge-queue';
import { DIGEST_JOB, digestJobId } from './digest-queue';
import type { EmailWorkerDeps } from './email-deps';
import { EMERGENCY_PRIORITY, FORWARD_JOB, forwardJobId } from './forward-queue';
import { PROCESS_MESSAGE_QUEUE, type ProcessMessageJobData } from './process-message-queue';
import { QUEUE_PREFIX } from './queue-prefix';
import { letterTextStatus, type RoutingMode, type TriageRecord } from './triage';

/** What one run did (the job's return value, shown on the dashboard; no personal data). */
export type ProcessOutcome =
  | { status: 'skipped'; reason: 'already-processed' }
  | { status: 'processed'; channel: 'email' | 'letter'; outcome: Decision['outcome']; routing: RoutingMode; acknowledge: boolean; malformed: boolean };

/** Content types of a scanned letter worth reading. */
function isLetterFile(a: { filename?: string; contentType: string }): boolean {
  return /^(application\/pdf|image\/)/i.test(a.contentType) || /\.(pdf|png|jpe?g|tiff?|bmp|webp)$/i.test(a.filename ?? '');
}

/** A letter's text, read from every letter file attached to the bureau's email. */
interface LetterReading {
  text: string;
  method: 'pdf-text' | 'ocr' | 'none';
  pages: number;
  needsManualCount: boolean;
  /** Why the text is missing or incomplete (extract.ts codes, or why no file was read); empty when complete. */
  problems: string[];
}

async function readLetter(deps: EmailWorkerDeps, parsed: ParsedEmail): Promise<LetterReading> {
  const files = parsed.attachments.filter((a) => a.content !== undefined && isLetterFile(a));
  if (files.length === 0) {
    // A letter file that is there but was not kept (over the keep limit) is not the same as none at all.
    const problem = parsed.attachments.some(isLetterFile) ? 'letter-not-read' : 'no-letter-attached';
    return { text: '', method: 'none', pages: 0, needsManualCount: true, problems: [problem] };
  }
  const texts: string[] = [];
  const problems = new Set<string>();
  let pages = 0;
  let manual = false;
  let usedOcr = false;
  for (const file of files) {
    const read = await deps.letters.extractLetterText(
      { filename: file.filename ?? 'letter', contentType: file.contentType, content: file.content! },
      deps.settings.letterLimits,
      deps.letters.extractionDeps,
    );
    if (read.text !== '') texts.push(read.text);
    pages += read.pages;
    manual ||= read.needsManualCount;
    usedOcr ||= read.method === 'ocr';
    for (const problem of read.problems) problems.add(problem);
  }
  const text = texts.join('\n\n');
  return { text, method: text === '' ? 'none' : usedOcr ? 'ocr' : 'pdf-text', pages, needsManualCount: manual, problems: [...problems] };
}

/** The response-frequency measure of the customer's restriction in force, in plain words. */
function responseFrequencyOf(identification: Identification, restrictionId: string | undefined, at: Date): string | undefined {
  if (identification.kind !== 'resolved' || restrictionId === undefined) return undefined;
  for (const r of identification.snapshot.restrictions.filter((x) => isEnforceable(x, at))) {
    for (const m of r.measures) if (m.type === 'response-frequency') return responseFrequencyWords(m.every);
  }
  return undefined;
}

/** The word limit of the customer's restriction in force, if any. */
function wordLimitOf(identification: Identification, restrictionId: string | undefined, at: Date): number | undefined {
  if (identification.kind !== 'resolved' || restrictionId === undefined) return undefined;
  for (const r of identification.snapshot.restrictions.filter((x) => isEnforceable(x, at))) {
    for (const m of r.measures) if (m.type === 'word-limit') return m.maxWords;
  }
  return undefined;
}

/**
 * The decision, or — should the rules throw on a record they cannot read — a safe stand-in: the message
 * still goes to a person, emergencies still go first, and the failure is flagged.
 */
function safeDecide(deps: EmailWorkerDeps, contact: Contact, identification: Identification, at: Date): Decision {
  try {
    return decide(contact, identification, at, deps.settings.decision);
  } catch (err) {
    deps.logger.error('decision failed; forwarding unrestricted and flagged', { err: (err as Error).message });
    const emergency = isEmergencyContact(contact, deps.settings.decision);
    return {
      outcome: emergency ? 'emergency' : 'proceed',
      ...(contact.customerId ? { customerId: contact.customerId } : {}),
      reasons: emergency ? ['emergency', 'restriction-check-unavailable'] : ['restriction-check-unavailable'],
      agentFlags: ['The restriction could not be applied automatically — check the customer’s record before replying'],
      breach: false,
    };
  }
}

function staffEmail(snapshot: GateSnapshot | undefined, staffId: string | undefined): { email?: string; name?: string } {
  if (snapshot === undefined || staffId === undefined) return {};
  const ref = snapshot.staff[staffId];
  return { ...(ref?.email ? { email: ref.email } : {}), ...(ref?.name ? { name: ref.name } : {}) };
}

/**
 * Processes one message (the worker's processor; exported for tests and the benchmark).
 * @param deps stores, queues and settings
 * @param messageKey the message's key
 */
export async function processMessage(deps: EmailWorkerDeps, messageKey: string): Promise<ProcessOutcome> {
  const { raw, settings, logger } = deps;
  const meta = await raw.meta(messageKey);
  if (meta === undefined) throw new RawMessageMissingError(messageKey);
  if (meta.processedAt !== undefined) return { status: 'skipped', reason: 'already-processed' };
  const receivedAt = new Date(meta.receivedAt);

  // The header block alone says whether this is a scanned letter, and so which attachments to keep.
  const head = readHeaderBlock(await raw.head(messageKey));
  const headerFrom = normaliseEmail(head.get('from')?.[0] ?? '');
  const isLetter = headerFrom !== undefined && headerFrom === settings.lettersFrom;
  const parsed = await parseEmail(raw.openStream(messageKey), { keep: (a) => isLetter && isLetterFile(a), maxKeepBytes: settings.maxMessageBytes });
  const channel: 'email' | 'letter' = isLetter ? 'letter' : 'email';
  const problems: string[] = [...parsed.problems];

  // ── Identify ────────────────────────────────────────────────────────────────────────────────────────
  let contact: Contact;
  let identification: Identification;
  let letterInfo: TriageRecord['letter'];
  let manualCount = false;
  if (isLetter) {
    const letter = await readLetter(deps, parsed);
    if (letter.method === 'none' && parsed.attachments.every((a) => !isLetterFile(a))) problems.push('no-letter-attached');
    const pattern = settings.customerRefPattern;
    // The bureau's subject, the letter and the covering note together: one reference between them is the
    // customer; two different ones (the subject says C310, the letter C300) are ambiguous — a restriction is
    // applied only when the identity resolves to exactly one customer (DESIGN.md §2), and agents are told.
    const references = [
      ...new Set([parsed.subject, letter.text, parsed.text].flatMap((text) => deps.letters.findCustomerReferences(text, pattern))),
    ].sort();
    const reference = references.length === 1 ? references[0] : undefined;
    if (references.length > 1) identification = { kind: 'ambiguous', customerIds: references };
    else identification = reference !== undefined && isSafeId(reference) ? await deps.gate.resolve({ customerId: reference }, { responded: true }) : { kind: 'unidentified' };
    manualCount = letter.needsManualCount;
    contact = { channel: 'letter', subject: parsed.subject, text: letter.text, ...(reference ? { customerId: reference } : {}) };
    letterInfo = { method: letter.method, pages: letter.pages, ...(reference ? { reference } : {}), problems: letter.problems };
  } else {
    const from = parsed.from?.address;
    identification = from !== undefined ? await deps.gate.resolve({ email: from }, { responded: true }) : { kind: 'unidentified' };
    // The customer's own words: the quoted thread below a reply is not theirs to be counted, and a quoted
    // acknowledgement (which always explains how to report an emergency) must not make every reply one.
    contact = { channel: 'email', subject: parsed.subject, text: parsed.replyText, ...(from ? { from } : {}) };
    // A forwarded message is the exception: what was forwarded is what the customer is telling us.
    if (/^\s*(fw|fwd)\s*:/i.test(parsed.subject) && detectEmergency(parsed.text, settings.decision.emergencyPhrases).emergency) contact.emergency = true;
  }
  if (identification.kind === 'resolved') contact.customerId = identification.snapshot.customerId;

  // ── Decide ──────────────────────────────────────────────────────────────────────────────────────────
  const decision = safeDecide(deps, contact, identification, receivedAt);
  deps.onDecision?.(channel, decision.outcome);
  let wordLimitPending: number | undefined;
  if (manualCount) {
    // The machine read only part of the letter (or none): its count is at most a lower bound, so only an
    // "over the limit" verdict stands; otherwise a person counts.
    if (!decision.agentFlags.some((f) => f.startsWith('Word count needed'))) {
      decision.agentFlags = [...decision.agentFlags, 'Word count needed: the letter could not be read in full automatically — count it by hand'];
    }
    if (decision.wordLimit && !decision.wordLimit.exceeded) {
      wordLimitPending = decision.wordLimit.limit;
      delete decision.wordLimit;
    } else if (decision.wordLimit === undefined) {
      wordLimitPending = wordLimitOf(identification, decision.restrictionId, receivedAt);
    }
  }
  const snapshot = identification.kind === 'resolved' ? identification.snapshot : undefined;
  // Counted by the decision where a word limit applies; not otherwise (ICU word segmentation costs
  // ~10 µs a word, which would dominate processing of ordinary mail for a number nobody needs).
  const words = decision.wordLimit?.words;
  // Our own mail come back (a forward whose mailbox routes to our MX): recorded, but not forwarded again,
  // or it would go round for ever. Only from our own domains: a loop header on anyone else's mail is not
  // ours, and must not stop that mail (perhaps an emergency) reaching a person.
  const fromDomain = parsed.from?.address.split('@')[1];
  const loop = parsed.replyHeaders['x-gatekeeper-loop'] !== undefined && fromDomain !== undefined && settings.domains.includes(fromDomain);

  // ── Route ───────────────────────────────────────────────────────────────────────────────────────────
  const named = staffEmail(snapshot, decision.routeTo);
  let routing: TriageRecord['routing'];
  if (loop) {
    routing = { mode: 'none', to: [] };
  } else if (decision.outcome === 'emergency') {
    routing = { mode: 'emergency', to: [settings.mailboxEmergency] };
  } else {
    const to = [named.email ?? settings.mailboxDefault];
    const namedContactName = named.name;
    const windowMs = decision.respondAfter !== undefined && decision.customerId !== undefined ? Date.parse(decision.respondAfter) : undefined;
    // A letter the machine could not read in full is not held for the response window's digest: its
    // emergency check saw none (or only part) of it, so a person must read it now. When the reply is due is
    // unchanged (the forward and the acknowledgement both say it); only the hand-over to staff is earlier.
    const readInFull = !isLetter || !manualCount;
    if (windowMs !== undefined && windowMs > deps.now().getTime() && readInFull) {
      routing = { mode: 'digest', to, windowMs, ...(namedContactName ? { namedContactName } : {}) };
    } else {
      routing = { mode: named.email ? 'named-contact' : 'default', to, ...(namedContactName ? { namedContactName } : {}) };
    }
  }

  // ── Acknowledge? ────────────────────────────────────────────────────────────────────────────────────
  let ack: TriageRecord['ack'];
  const sender = parsed.from?.address;
  if (loop) {
    ack = { send: false, reason: 'our-loop' };
  } else if (isLetter) {
    ack = snapshot ? { send: true, gateId: snapshot.customerId } : { send: false, reason: 'no-customer' };
  } else {
    const headers = { ...parsed.replyHeaders };
    // The SMTP envelope sender is the return path RFC 3834 means; a header may have been forged or be absent.
    if (meta.mailFrom !== undefined) headers['return-path'] = meta.mailFrom;
    const verdict = shouldAcknowledge(headers, sender, settings.domains, parsed.subject);
    if (!verdict.acknowledge) ack = { send: false, reason: verdict.reason };
    else ack = { send: true, gateId: snapshot ? snapshot.customerId : `s:${createHash('sha256').update(sender ?? '').digest('hex')}` };
  }
  if (ack.send && ack.gateId !== undefined && decision.outcome !== 'emergency') {
    const claim = await raw.claimAcknowledgement(ack.gateId, messageKey, receivedAt.getTime(), settings.ackPeriodMs);
    ack = claim.won ? { ...ack, periodEndsAt: claim.periodEndsAt.toISOString() } : { send: false, reason: 'covered', gateId: ack.gateId };
  }

  // ── Record, audit, screen-pop ───────────────────────────────────────────────────────────────────────
  const stored: StoredContact & { text?: string } = {
    id: messageKey,
    channel,
    receivedAt: meta.receivedAt,
    outcome: decision.outcome,
    reasons: decision.reasons,
    breach: decision.breach ?? false,
    subject: parsed.subject,
    status: loop ? 'loop-detected' : routing.mode === 'digest' ? 'held-for-digest' : 'forward-queued',
    details: { malformed: parsed.malformed, attachments: parsed.attachments.length, acknowledge: ack.send, ...(manualCount ? { manualCount: true } : {}) },
  };
  if (channel === 'email' && sender !== undefined) stored.from = sender;
  if (decision.restrictionId !== undefined) stored.restrictionId = decision.restrictionId;
  if (decision.routeTo !== undefined) stored.routeTo = decision.routeTo;
  if (words !== undefined) stored.words = words;
  if (contact.text) stored.text = contact.text;
  await deps.contacts.record(decision.customerId, stored);
  await deps.audit.appendOnce(`written-${messageKey}`, {
    actor: meta.source === 'http' ? 'http-ingest' : 'smtp',
    action: 'written-contact.decided',
    entity: 'contact',
    entityId: messageKey,
    at: new Date().toISOString(),
    details: {
      channel,
      outcome: decision.outcome,
      reasons: decision.reasons,
      ...(decision.customerId ? { customerId: decision.customerId } : {}),
      ...(decision.restrictionId ? { restrictionId: decision.restrictionId } : {}),
      routing: routing.mode,
      acknowledge: ack.send,
      malformed: parsed.malformed,
      problems,
      ...(letterInfo ? { letterText: letterTextStatus({ channel, letter: letterInfo, manualCount }), letterProblems: letterInfo.problems } : {}),
    },
  });
  if (needsScreenPop(decision)) {
    // Best effort: a console that misses a pop still finds the flags on the customer's record.
    await publishWrittenScreenPop(deps.events, writtenScreenPop(channel, decision, messageKey, receivedAt)).catch((err: unknown) =>
      logger.warn('screen-pop not published', { messageKey, err: (err as Error).message }),
    );
  }

  // ── Triage record, then the jobs that read it ───────────────────────────────────────────────────────
  const triage: TriageRecord = {
    channel,
    receivedAt: meta.receivedAt,
    subject: parsed.subject,
    references: parsed.references,
    identification: identification.kind,
    decision,
    manualCount,
    malformed: parsed.malformed || problems.includes('no-letter-attached'),
    problems,
    attachments: parsed.attachments.map((a) => ({ contentType: a.contentType, size: a.size, ...(a.filename ? { filename: a.filename } : {}) })),
    routing,
    ack,
  };
  if (channel === 'email' && sender !== undefined) triage.from = sender;
  if (parsed.replyTo !== undefined) triage.replyTo = parsed.replyTo;
  if (parsed.messageId !== undefined) triage.messageId = parsed.messageId;
  if (snapshot) triage.customerName = snapshot.name;
  if (words !== undefined) triage.words = words;
  if (wordLimitPending !== undefined) triage.wordLimitPending = wordLimitPending;
  if (letterInfo) triage.letter = letterInfo;
  const frequency = responseFrequencyOf(identification, decision.restrictionId, receivedAt);
  if (frequency) triage.responseFrequency = frequency;
  await raw.update(messageKey, { triage: JSON.stringify(triage), status: stored.status ?? 'processed' });

  await enqueueFollowUps(deps, messageKey, meta, triage);
  await raw.update(messageKey, { processedAt: new Date().toISOString() });
  logger.info('written contact processed', { messageKey, channel, outcome: decision.outcome, reasons: decision.reasons, routing: routing.mode, acknowledge: ack.send, malformed: triage.malformed });
  return { status: 'processed', channel, outcome: decision.outcome, routing: routing.mode, acknowledge: ack.send, malformed: triage.malformed };
}

async function enqueueFollowUps(deps: EmailWorkerDeps, messageKey: string, meta: RawMessageMeta, triage: TriageRecord): Promise<void> {
  const { routing, decision } = triage;
  if (routing.mode === 'digest' && routing.windowMs !== undefined && decision.customerId !== undefined) {
    if (meta.forwardedAt === undefined) {
      await deps.raw.hold(decision.customerId, routing.windowMs, messageKey, Date.parse(meta.receivedAt));
      await deps.queues.digest.add(
        DIGEST_JOB,
        { customerId: decision.customerId, windowMs: routing.windowMs },
        { jobId: digestJobId(decision.customerId, routing.windowMs), delay: Math.max(0, routing.windowMs - deps.now().getTime()) },
      );
    }
  } else if (routing.mode !== 'none') {
    await deps.queues.forward.add(
      FORWARD_JOB,
      { messageKey },
      { jobId: forwardJobId(messageKey), ...(routing.mode === 'emergency' ? { priority: EMERGENCY_PRIORITY } : {}) },
    );
  }
  if (triage.ack.send) {
    await deps.queues.acknowledge.add('acknowledge', { messageKey }, { jobId: acknowledgeJobId(messageKey), ...(decision.outcome === 'emergency' ? { priority: EMERGENCY_PRIORITY } : {}) });
  }
}

/** Options of {@link createProcessMessageWorker}. */
export interface ProcessMessageWorkerOptions {
  /** Messages processed at once. OCR of a letter takes a core for seconds, so keep it near the core count. Default 2. */
  concurrency?: number;
}

/**
 * Starts the worker.
 * @param connection a createWorkerConnection connection (waits through outages)
 * @param deps stores, queues and settings
 */
export function createProcessMessageWorker(connection: ConnectionOptions, deps: EmailWorkerDeps, options: ProcessMessageWorkerOptions = {}): Worker<ProcessMessageJobData, ProcessOutcome> {
  const worker = new Worker<ProcessMessageJobData, ProcessOutcome>(
    PROCESS_MESSAGE_QUEUE,
    async (job: Job<ProcessMessageJobData>) => {
      try {
        return await processMessage(deps, job.data.messageKey);
      } catch (err) {
        // A message that is not (any longer) in the store cannot be processed by retrying.
        if (err instanceof RawMessageMissingError) throw new UnrecoverableError(err.message);
        throw err;
      }
    },
    { connection, prefix: QUEUE_PREFIX, concurrency: options.concurrency ?? 2 },
  );
  worker.on('failed', (job, err) => deps.logger.warn('process-message failed', { messageKey: job?.data.messageKey, attempts: job?.attemptsMade, err: err.message }));
  worker.on('error', (err) => deps.logger.warn('process-message worker error', { err: err.message }));
  return worker;
}
