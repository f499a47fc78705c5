/**
 * What the email and letter workers need: the stores, the queues, the outbound transport, the letters
 * channel, and the settings taken from configuration. Passed in whole, so tests build the same thing over
 * a real Redis and a capture SMTP server.
 */
import type { EventPublisher } from '../channels/email/screen-pop';
import type { MailTransport } from '../channels/email/mail-transport';
import type { LetterAttachment, LetterExtractionDeps, LetterLimits, LetterText } from '../channels/letters/extract';
import type { Letter } from '../channels/letters/letter-pdf';
import { decisionSettings } from '../channels/decision-settings';
import type { Config } from '../config/env';
import type { Logger } from '../config/logger';
import type { Decision, DecisionSettings } from '../rules/types';
import type { RawMessageStore } from '../store/raw-messages';
import type { AuditLog } from '../store/audit-log';
import type { ContactRepository } from '../store/contact-repository';
import type { GateRepository } from '../store/gate-repository';
import type { AcknowledgeQueue } from './acknowledge-queue';
import type { DigestQueue } from './digest-queue';
import type { ForwardQueue } from './forward-queue';

/** Settings of the written-contact workers. */
export interface EmailSettings {
  /** Our domains (`SMTP_DOMAINS`): mail from them is our own; the first names our Message-IDs and sender. */
  domains: readonly string[];
  mailboxDefault: string;
  mailboxEmergency: string;
  mailboxPrint: string;
  /** The scanning bureau's address (`LETTERS_FROM`), lower-cased. */
  lettersFrom: string;
  /** The address acknowledgements come from and customers write to (`WRITE_TO_EMAIL`). */
  ackFrom: string;
  /** The sender of forwards and digests. */
  forwardFrom: string;
  /** The team named in sign-offs. */
  teamName: string;
  /** At most one acknowledgement per customer per this period, in ms (`ACK_PERIOD_HOURS`). */
  ackPeriodMs: number;
  /** Finds a customer reference in a letter or subject (`CUSTOMER_REF_PATTERN`). */
  customerRefPattern: RegExp;
  /** `MAX_MESSAGE_BYTES`: a digest is split so that no part is larger. */
  maxMessageBytes: number;
  /** `GATEKEEPER_TIMEZONE`, for dates in acknowledgements and summaries. */
  timeZone: string;
  emergencyNumber: string;
  decision: DecisionSettings;
  /** Page and time limits of reading one letter. */
  letterLimits: LetterLimits;
}

/** The letters channel, as the workers use it (channels/letters). */
export interface LettersPort {
  extractLetterText(attachment: LetterAttachment, limits: LetterLimits, deps?: LetterExtractionDeps): Promise<LetterText>;
  /** The distinct customer references a text gives (channels/letters/reference.ts); more than one is ambiguous. */
  findCustomerReferences(text: string, pattern: RegExp | string): string[];
  renderLetterPdf(letter: Letter): Promise<Buffer>;
  /** A long-lived OCR engine shared by letter jobs, if any. */
  extractionDeps?: LetterExtractionDeps;
}

/** Everything the workers need. */
export interface EmailWorkerDeps {
  raw: RawMessageStore;
  gate: Pick<GateRepository, 'resolve'>;
  contacts: Pick<ContactRepository, 'record' | 'update'>;
  audit: Pick<AuditLog, 'appendOnce'>;
  queues: { forward: ForwardQueue; acknowledge: AcknowledgeQueue; digest: DigestQueue };
  mail: MailTransport;
  events: EventPublisher;
  letters: LettersPort;
  settings: EmailSettings;
  logger: Logger;
  /** The clock (delays of digest jobs); decisions use each message's receivedAt. */
  now: () => Date;
  /** Told of every decision (bin/ counts them on /metrics). */
  onDecision?: (channel: 'email' | 'letter', outcome: Decision['outcome']) => void;
}

/**
 * The workers' settings from the validated configuration.
 * @param config the configuration
 * @param overrides settings differing from it (tests)
 */
export function emailSettingsFromConfig(config: Config, overrides: Partial<EmailSettings> = {}): EmailSettings {
  const domain = config.smtpDomains[0] ?? 'gatekeeper.local';
  return {
    domains: config.smtpDomains,
    mailboxDefault: config.mailboxDefault,
    mailboxEmergency: config.mailboxEmergency,
    mailboxPrint: config.mailboxPrint,
    lettersFrom: config.lettersFrom.toLowerCase(),
    ackFrom: config.writeToEmail,
    forwardFrom: `Gatekeeper <gatekeeper@${domain}>`,
    teamName: 'Customer Services',
    ackPeriodMs: config.ackPeriodHours * 3_600_000,
    customerRefPattern: config.customerRefPattern,
    maxMessageBytes: config.maxMessageBytes,
    timeZone: config.timeZone,
    emergencyNumber: config.emergencyNumber,
    decision: decisionSettings(config),
    // LETTER_MAX_PAGES and LETTER_TIMEOUT_MS: what an operator sets must bound every letter the workers read.
    letterLimits: { maxPages: config.letterMaxPages, timeoutMs: config.letterTimeoutMs },
    ...overrides,
  };
}
