/**
 * The default of every setting Gatekeeper reads from its environment (DESIGN.md §4 and the extras below).
 * Each default suits development on one machine; the ones marked "must be set in production" are
 * placeholders that lead nowhere, and `loadConfig` refuses to start without them when `NODE_ENV=production`.
 *
 * Naming: each setting is the camelCase of its variable (`SMTP_PORT` → `smtpPort`), except
 * `GATEKEEPER_TIMEZONE` → `timeZone` and `GATEKEEPER_ADMIN_TOKEN` → `adminToken`.
 */

/** Log levels accepted by `LOG_LEVEL` (winston's npm levels, plus `silent`). */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULTS = {
  /** `PORT`: the HTTP gateway's port. Default `3000`. */
  port: 3000,
  /** `SMTP_PORT`: the inbound SMTP listener's port. Default `2525`. */
  smtpPort: 2525,
  /** `SMTP_DOMAINS`: the domains the SMTP listener accepts mail for (comma list). Default: the domain of `MAILBOX_DEFAULT`'s default. */
  smtpDomains: ['gatekeeper.local'] as readonly string[],
  /** `MAX_MESSAGE_BYTES`: the largest inbound email or letter accepted. Default 25 MiB (`26214400`). */
  maxMessageBytes: 25 * 1024 * 1024,
  /** `MAILBOX_DEFAULT`: where accepted written contacts are forwarded. Default `housing@gatekeeper.local`. */
  mailboxDefault: 'housing@gatekeeper.local',
  /** `MAILBOX_EMERGENCY`: where emergencies are forwarded at once. Default `emergency@gatekeeper.local`. */
  mailboxEmergency: 'emergency@gatekeeper.local',
  /** `MAILBOX_PRINT`: where letters to be printed and posted go. Default `print@gatekeeper.local`. */
  mailboxPrint: 'print@gatekeeper.local',
  /** `LETTERS_FROM`: the scanning bureau's sender address; mail from it is treated as scanned letters. Default `letters@bureau.local`. */
  lettersFrom: 'letters@bureau.local',
  /**
   * `EMERGENCY_NUMBER`: the number an emergency caller is put through to and told about.
   * Default `+441632960999`, an Ofcom drama number that connects nowhere: **must be set in production**.
   */
  emergencyNumber: '+441632960999',
  /**
   * `VOICE_DEFAULT_ROUTE`: where a call that proceeds goes: `dial:<E.164>`, `enqueue:<TaskRouter workflow SID>`
   * or `redirect:<https TwiML URL>`. Default `dial:+441632960000`, an Ofcom drama number: **must be set in production**.
   */
  voiceDefaultRoute: 'dial:+441632960000',
  /** `GATEKEEPER_TIMEZONE`: IANA zone of call windows and bank holidays. Default `Europe/London`. */
  timeZone: 'Europe/London',
  /** `LOG_LEVEL`: the logger's level. Default `info`. */
  logLevel: 'info' as LogLevel,
  /** `VOICE_LOOKUP_BUDGET_MS`: how long a call waits for Redis before proceeding flagged `restriction-check-unavailable`. Default `150`. */
  voiceLookupBudgetMs: 150,
  /** `EMERGENCY_DIGIT`: the keypad digit that reaches `EMERGENCY_NUMBER` from a deflection prompt. Default `1`. */
  emergencyDigit: '1',
  /** `REVIEW_MAX_MONTHS`: the latest a restriction's review may be set, in months from the decision (policy: 6). Default `6`. */
  reviewMaxMonths: 6,
  /** `REPEAT_THRESHOLD`: similarity (0–1) at or above which a new text repeats an answered one (Jaccard over 1–3-word shingles; see rules/repeat-detection.ts). Default `0.35`. */
  repeatThreshold: 0.35,
  /** `ACK_PERIOD_HOURS`: a customer gets at most one acknowledgement per this period (emergencies excepted). Default `24`. */
  ackPeriodHours: 24,
  /** `RAW_RETENTION_DAYS`: how long raw messages (MIME, PDFs) are kept as evidence. Default `400` (a year and a review). */
  rawRetentionDays: 400,
  /** `SHUTDOWN_GRACE_MS`: how long a graceful shutdown may take before the process gives up and exits 1. Default `10000`. */
  shutdownGraceMs: 10_000,
  /** `WRITE_TO_ADDRESS`: the postal address given to customers told to write. Default: a placeholder; set it in production. */
  writeToAddress: 'Customer Relations, Gatekeeper Housing, PO Box 0000, London',
  /** `WRITE_TO_EMAIL`: the email address given to customers told to write. Default: `MAILBOX_DEFAULT`. */
  writeToEmail: undefined as string | undefined,
  /** `CUSTOMER_REF_PATTERN`: regular expression finding a customer reference in a subject or letter. Default `\bC\d{3,}\b`. */
  customerRefPattern: '\\bC\\d{3,}\\b',
  /** `APPEAL_WORKING_DAYS`: how long a customer has to appeal a restriction in writing, in working days. Default `20`. */
  appealWorkingDays: 20,
  /** `PRIVACY_NOTICE_URL`: the privacy notice linked from every notification letter. Default: a placeholder; set it in production. */
  privacyNoticeUrl: 'https://www.example.org/privacy',
  /** `LETTER_MAX_PAGES`: pages of a scanned letter read (text or OCR) before it is flagged for a person. Default `20`. */
  letterMaxPages: 20,
  /** `LETTER_TIMEOUT_MS`: time allowed to read one scanned letter before it is flagged for a manual count. Default `20000`. */
  letterTimeoutMs: 20_000,
  /** `BREACH_THRESHOLD`: breaches within `BREACH_PERIOD_DAYS` that prompt the tenancy specialist to consider legal options. Default `5`. */
  breachThreshold: 5,
  /** `BREACH_PERIOD_DAYS`: the period breaches are counted over. Default `30`. */
  breachPeriodDays: 30,
  /** `AUDIT_SAMPLE_SIZE`: active cases sampled for the ts-managers' monthly audit. Default `5`. */
  auditSampleSize: 5,
  /** `DATA_DIR`: local state (embedded Redis under `redis/`, outbound `.eml` files under `outbox/`). Default `./var`. */
  dataDir: './var',
  /**
   * `TRUST_PROXY`: express's `trust proxy` (client IPs for the authentication-failure limit): unset or `false` trusts no
   * proxy, `true` trusts all, an integer trusts that many hops, otherwise a comma list of addresses or `loopback` etc.
   * Default `false`.
   */
  trustProxy: false as boolean | number | string,
} as const;
