/**
 * What the lifecycle workers (notification letters, review reminders, breach monitor, expiry, monthly
 * compliance report) need: their settings, with the defaults documented here, and the parts they run on.
 *
 * The settings come from config/ where config/ has a variable for them; the rest are constants of this
 * module until the configuration grows a variable (each says which one it would be), overridable by the
 * caller, so tests and a deployment can change them without touching code.
 */
import type { Config } from '../config/env';
import type { Logger } from '../config/logger';
import type { MonthlyReport, AuditSampleCase } from '../rules/monthly-report';
import type { MailTransport, OutboundAttachment } from '../channels/email/mail-transport';
import type { Store } from '../store';
import type { LetterStore, NoticeLog } from './letter-store';
import type { LifecycleQueues } from './lifecycle-queues';

/** Days before a review date that the tenancy specialist is first reminded (issue 5: 14). */
export const DEFAULT_REVIEW_REMINDER_DAYS = 14;
/** Breaches within {@link DEFAULT_BREACH_PERIOD_DAYS} that prompt a notice to the tenancy specialist. */
export const DEFAULT_BREACH_THRESHOLD = 5;
/** The rolling period breaches are counted over, and the least time between two breach notices. */
export const DEFAULT_BREACH_PERIOD_DAYS = 30;
/** Path of the privacy notice under `PUBLIC_URL` when no address is configured. */
export const DEFAULT_PRIVACY_NOTICE_PATH = '/privacy';
/** The team letters are signed for. */
export const DEFAULT_SENDER_TEAM = 'Tenancy Services';
/** Who appeals are addressed to (a ts-manager not involved in the decision reads them). */
export const DEFAULT_APPEALS_ADDRESSEE = 'The Tenancy Services Manager';

/** Settings of the lifecycle workers. */
export interface LifecycleSettings {
  /** IANA zone of review dates, schedules and letter dates (`GATEKEEPER_TIMEZONE`). */
  timeZone: string;
  /** E.164 (`EMERGENCY_NUMBER`); letters print it in national format. */
  emergencyNumber: string;
  /** Where printable letters go to be printed and posted (`MAILBOX_PRINT`). */
  mailboxPrint: string;
  /** The gated address customers write to; also the From of customer letters (`WRITE_TO_EMAIL`). */
  writeToEmail: string;
  /** The postal address customers write to, comma-separated (`WRITE_TO_ADDRESS`). */
  writeToAddress: string;
  /** From address of notices to staff (`MAILBOX_DEFAULT`). */
  staffNoticesFrom: string;
  /** Base URL of the console, for links in staff notices (`PUBLIC_URL`). */
  publicUrl: string;
  /**
   * The privacy notice every letter links to. Default `PUBLIC_URL` + {@link DEFAULT_PRIVACY_NOTICE_PATH}
   * (a future `PRIVACY_NOTICE_URL` variable).
   */
  privacyNoticeUrl: string;
  /** Working days a customer has to appeal (config/letter-templates `DEFAULT_APPEAL_WORKING_DAYS`, 20). */
  appealWorkingDays: number;
  /** Default {@link DEFAULT_REVIEW_REMINDER_DAYS}. */
  reviewReminderDays: number;
  /** Default {@link DEFAULT_BREACH_THRESHOLD}. */
  breachThreshold: number;
  /** Default {@link DEFAULT_BREACH_PERIOD_DAYS}. */
  breachPeriodDays: number;
  /** How long a sent letter's PDF is kept (`RAW_RETENTION_DAYS`, 400); the letter's record is kept for good. */
  letterRetentionDays: number;
  /** Default {@link DEFAULT_SENDER_TEAM}. */
  senderTeam: string;
  /** Default {@link DEFAULT_APPEALS_ADDRESSEE}. */
  appealsAddressee: string;
}

/**
 * The lifecycle settings from the validated configuration.
 * @param config the process configuration
 * @param overrides anything to set differently (tests; a deployment's extra settings)
 */
export function lifecycleSettingsFromConfig(
  config: Pick<
    Config,
    | 'timeZone'
    | 'emergencyNumber'
    | 'mailboxPrint'
    | 'writeToEmail'
    | 'writeToAddress'
    | 'mailboxDefault'
    | 'publicUrl'
    | 'rawRetentionDays'
    | 'privacyNoticeUrl'
    | 'appealWorkingDays'
    | 'breachThreshold'
    | 'breachPeriodDays'
  >,
  overrides: Partial<LifecycleSettings> = {},
): LifecycleSettings {
  return {
    timeZone: config.timeZone,
    emergencyNumber: config.emergencyNumber,
    mailboxPrint: config.mailboxPrint,
    writeToEmail: config.writeToEmail,
    writeToAddress: config.writeToAddress,
    staffNoticesFrom: config.mailboxDefault,
    publicUrl: config.publicUrl,
    privacyNoticeUrl: config.privacyNoticeUrl,
    appealWorkingDays: config.appealWorkingDays,
    reviewReminderDays: DEFAULT_REVIEW_REMINDER_DAYS,
    breachThreshold: config.breachThreshold,
    breachPeriodDays: config.breachPeriodDays,
    letterRetentionDays: config.rawRetentionDays,
    senderTeam: DEFAULT_SENDER_TEAM,
    appealsAddressee: DEFAULT_APPEALS_ADDRESSEE,
    ...overrides,
  };
}

/** A sampled case as the report source returns it: the API adds the recorded audit, if any. */
export type ReportedSampleCase = AuditSampleCase & { audit?: { outcome: string; note?: string } | null };

/** The month's compliance report and its CSV, as the API serves them. */
export interface MonthlyReportDocument {
  report: Omit<MonthlyReport, 'auditSample'> & { auditSample: ReportedSampleCase[] };
  csv: string;
}

/**
 * Builds the report of a month (`YYYY-MM`). Injected because the report with its recorded audits and the
 * CSV are made in gateway/report-routes.ts, which workers/ may not import (DESIGN.md §1).
 */
export type MonthlyReportSource = (month: string) => Promise<MonthlyReportDocument>;

/** Everything the lifecycle sweeps and workers run on. */
export interface LifecycleDeps {
  store: Pick<Store, 'customers' | 'staff' | 'restrictions' | 'contacts' | 'audit'>;
  queues: LifecycleQueues;
  letters: LetterStore;
  notices: NoticeLog;
  mail: MailTransport;
  settings: LifecycleSettings;
  logger: Logger;
  monthlyReport: MonthlyReportSource;
  /** The clock for records (`sentAt`); sweeps take their `now` as a parameter instead. */
  now: () => Date;
}

/** A message to staff, composed from records when its job runs. */
export interface StaffMessage {
  /** Staff addresses. */
  to: string[];
  subject: string;
  text: string;
  html?: string;
  attachments?: OutboundAttachment[];
}

/** Nobody on record can receive a notice (no such staff, or none with the role): fix the staff list, then retry the job. */
export class NoRecipientsError extends Error {
  override readonly name = 'NoRecipientsError';
  readonly code = 'no-recipients';
  constructor(what: string) {
    super(`Nobody on record to send the ${what} to`);
  }
}
