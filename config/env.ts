/**
 * Typed configuration from the environment (DESIGN.md §4), validated once at start.
 *
 * Every variable is optional in development; each has a default in `config/defaults.ts`. A bad value stops
 * the process with ONE line that names the variable and what it must be, so an operator can fix it without
 * reading code. Secrets are never echoed back in that line.
 */
import { isAbsolute, resolve } from 'node:path';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { DEFAULTS, LOG_LEVELS, type LogLevel } from './defaults';

/** The configuration is unusable; `message` is one line naming the variable. */
export class ConfigError extends Error {
  readonly code = 'invalid-config';
  /** The environment variable at fault. */
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** A `host:port` pair, as in `REDIS_CLUSTER_NODES` and `REDIS_SENTINELS`. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where Redis is. The first three variants have the same shape as `store/redis-target.ts`'s `RedisTarget`
 * (config/ may not import store/, so the shape is repeated here; TypeScript checks they stay assignable).
 */
export type RedisTargetConfig =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: HostPort[] }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string };

/** No Redis configured: `npm start` runs a local `redis-server` with its data under `dataDir`. */
export interface EmbeddedRedisConfig {
  kind: 'embedded';
  dataDir: string;
}

/** Where a call that proceeds is sent (`VOICE_DEFAULT_ROUTE`). */
export type VoiceRoute =
  | { kind: 'dial'; number: string }
  | { kind: 'enqueue'; workflowSid: string }
  | { kind: 'redirect'; url: string };

export type NodeEnv = 'development' | 'production' | 'test';

/** The validated configuration. Frozen at run time; see `config/defaults.ts` for each default. */
export interface Config {
  readonly nodeEnv: NodeEnv;
  readonly port: number;
  /** Base URL Twilio signs webhooks against, without a trailing slash. */
  readonly publicUrl: string;
  readonly twilioAuthToken?: string;
  /** `GATEKEEPER_ADMIN_TOKEN`. */
  readonly adminToken?: string;
  readonly redis: RedisTargetConfig | EmbeddedRedisConfig;
  readonly smtpPort: number;
  readonly smtpRelayUrl?: string;
  readonly smtpDomains: readonly string[];
  readonly maxMessageBytes: number;
  readonly mailboxDefault: string;
  readonly mailboxEmergency: string;
  readonly mailboxPrint: string;
  readonly lettersFrom: string;
  /** E.164. */
  readonly emergencyNumber: string;
  readonly voiceDefaultRoute: VoiceRoute;
  /** `GATEKEEPER_TIMEZONE`, a valid IANA zone. */
  readonly timeZone: string;
  readonly logLevel: LogLevel;
  readonly voiceLookupBudgetMs: number;
  readonly emergencyDigit: string;
  readonly reviewMaxMonths: number;
  readonly repeatThreshold: number;
  readonly ackPeriodHours: number;
  readonly rawRetentionDays: number;
  readonly shutdownGraceMs: number;
  readonly writeToAddress: string;
  readonly writeToEmail: string;
  readonly customerRefPattern: RegExp;
  /** Absolute. */
  readonly dataDir: string;
  /** `<dataDir>/outbox`: outbound mail as `.eml` files when `SMTP_RELAY_URL` is unset. */
  readonly outboxDir: string;
  readonly trustProxy: boolean | number | string;
  readonly appealWorkingDays: number;
  readonly privacyNoticeUrl: string;
  readonly letterMaxPages: number;
  readonly letterTimeoutMs: number;
  readonly breachThreshold: number;
  readonly breachPeriodDays: number;
  readonly auditSampleSize: number;
}

/** Variables whose values are never repeated in an error message. */
const SECRET_VARIABLES = new Set(['TWILIO_AUTH_TOKEN', 'GATEKEEPER_ADMIN_TOKEN', 'REDIS_URL', 'SMTP_RELAY_URL']);

/**
 * A variable parsed by `parse`, which returns `undefined` for a bad value; `requirement` completes the sentence
 * "<VARIABLE> …" in the error line.
 */
function variable<T>(requirement: string, parse: (raw: string) => T | undefined) {
  return z.string().transform((raw, ctx) => {
    const value = parse(raw.trim());
    if (value === undefined) {
      ctx.issues.push({ code: 'custom', message: requirement, input: raw });
      return z.NEVER;
    }
    return value;
  });
}

function integer(min: number, max: number) {
  return variable(`must be an integer between ${min} and ${max}`, (raw) => {
    if (!/^-?\d+$/.test(raw)) return undefined;
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  });
}

function oneOf<const T extends readonly string[]>(values: T) {
  return variable(`must be one of ${values.join(', ')}`, (raw) =>
    (values as readonly string[]).includes(raw) ? (raw as T[number]) : undefined,
  );
}

const emailSchema = z.email();
function email() {
  return variable('must be an email address', (raw) => {
    const lower = raw.toLowerCase();
    return emailSchema.safeParse(lower).success ? lower : undefined;
  });
}

function url(requirement: string, protocols: readonly string[]) {
  return variable(requirement, (raw) => {
    try {
      const parsed = new URL(raw);
      return protocols.includes(parsed.protocol) && parsed.hostname !== '' ? raw : undefined;
    } catch {
      return undefined;
    }
  });
}

/** A phone number in E.164 (`+441632960999`) or UK national form (`01632 960999`), normalised to E.164. */
export function parsePhone(raw: string): string | undefined {
  const parsed = parsePhoneNumberFromString(raw, 'GB');
  // isPossible (length) rather than isValid (allocated ranges): metadata lags Ofcom, and a wrong "invalid"
  // would stop a landlord configuring its own emergency line.
  return parsed?.isPossible() ? parsed.number : undefined;
}

const WORKFLOW_SID = /^WW[0-9a-fA-F]{32}$/;

/**
 * Parses `VOICE_DEFAULT_ROUTE`: `dial:<phone>`, `enqueue:<TaskRouter workflow SID WW…>` or `redirect:<https URL>`.
 * Returns `undefined` when the value is none of those.
 */
export function parseVoiceRoute(raw: string): VoiceRoute | undefined {
  const colon = raw.indexOf(':');
  if (colon < 0) return undefined;
  const kind = raw.slice(0, colon);
  const target = raw.slice(colon + 1).trim();
  if (kind === 'dial') {
    const number = parsePhone(target);
    return number === undefined ? undefined : { kind: 'dial', number };
  }
  if (kind === 'enqueue') return WORKFLOW_SID.test(target) ? { kind: 'enqueue', workflowSid: target } : undefined;
  if (kind === 'redirect') {
    try {
      const parsed = new URL(target);
      return parsed.protocol === 'https:' ? { kind: 'redirect', url: target } : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Parses `host:port,host:port,…` (an IPv6 host in brackets: `[::1]:6379`); `undefined` if any entry is bad. */
export function parseHostPorts(raw: string): HostPort[] | undefined {
  const entries = raw.split(',').map((s) => s.trim());
  const out: HostPort[] = [];
  for (const entry of entries) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(entry);
    if (!match?.[1] || !match[2]) return undefined;
    const host = match[1].startsWith('[') ? match[1].slice(1, -1) : match[1];
    const port = Number(match[2]);
    if (port < 1 || port > 65535) return undefined;
    if (!match[1].startsWith('[') && !HOSTNAME.test(host)) return undefined;
    out.push({ host, port });
  }
  return out.length > 0 ? out : undefined;
}

function parseDomains(raw: string): string[] | undefined {
  const domains = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  return domains.length > 0 && domains.every((d) => HOSTNAME.test(d)) ? [...new Set(domains)] : undefined;
}

function parseRegExp(raw: string): RegExp | undefined {
  try {
    const re = new RegExp(raw);
    // A pattern that matches nothing at all would "find" a reference in every text.
    return re.test('') ? undefined : re;
  } catch {
    return undefined;
  }
}

/**
 * An IANA zone in Area/Location form (or UTC). ICU also accepts legacy abbreviations such as `BST`, which are
 * ambiguous (British Summer Time? Bangladesh?) and would silently put call windows in the wrong country.
 */
function parseTimeZone(raw: string): string | undefined {
  return (raw === 'UTC' || raw.includes('/')) && IANAZone.isValidZone(raw) ? raw : undefined;
}

function parseTrustProxy(raw: string): boolean | number | string | undefined {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  return /^[\w.:/,\s-]+$/.test(raw) ? raw : undefined;
}

/** Non-empty, single-line text of at most `max` characters. */
function text(max: number) {
  return variable(`must be a single line of at most ${max} characters`, (raw) =>
    raw !== '' && raw.length <= max && !/[\r\n]/.test(raw) ? raw : undefined,
  );
}

/** One schema per variable, in the order problems are reported. */
const envSchema = z.object({
  NODE_ENV: oneOf(['development', 'production', 'test'] as const).optional(),
  PORT: integer(1, 65535).optional(),
  PUBLIC_URL: url('must be an http:// or https:// URL', ['http:', 'https:']).optional(),
  TWILIO_AUTH_TOKEN: variable('must be a token without spaces', (raw) => (/^\S+$/.test(raw) ? raw : undefined)).optional(),
  GATEKEEPER_ADMIN_TOKEN: variable('must be at least 16 characters without spaces', (raw) =>
    /^\S{16,}$/.test(raw) ? raw : undefined,
  ).optional(),
  REDIS_URL: url('must be a redis:// or rediss:// URL', ['redis:', 'rediss:']).optional(),
  REDIS_CLUSTER_NODES: variable('must be a comma list of host:port', parseHostPorts).optional(),
  REDIS_SENTINELS: variable('must be a comma list of host:port', parseHostPorts).optional(),
  REDIS_SENTINEL_NAME: variable('must be a master name of letters, digits, ".", "_" or "-"', (raw) =>
    /^[\w.-]+$/.test(raw) ? raw : undefined,
  ).optional(),
  SMTP_PORT: integer(1, 65535).optional(),
  SMTP_RELAY_URL: url('must be an smtp:// or smtps:// URL', ['smtp:', 'smtps:']).optional(),
  SMTP_DOMAINS: variable('must be a comma list of domain names', parseDomains).optional(),
  MAX_MESSAGE_BYTES: integer(1024, 1024 * 1024 * 1024).optional(),
  MAILBOX_DEFAULT: email().optional(),
  MAILBOX_EMERGENCY: email().optional(),
  MAILBOX_PRINT: email().optional(),
  LETTERS_FROM: email().optional(),
  EMERGENCY_NUMBER: variable('must be a phone number in E.164 (+441632960999) or UK national form', parsePhone).optional(),
  VOICE_DEFAULT_ROUTE: variable(
    'must be dial:<phone number>, enqueue:<TaskRouter workflow SID WW…> or redirect:<https URL>',
    parseVoiceRoute,
  ).optional(),
  GATEKEEPER_TIMEZONE: variable('must be an IANA time zone such as Europe/London', parseTimeZone).optional(),
  LOG_LEVEL: oneOf(LOG_LEVELS).optional(),
  VOICE_LOOKUP_BUDGET_MS: integer(10, 10_000).optional(),
  EMERGENCY_DIGIT: variable('must be one keypad key: 0-9, * or #', (raw) => (/^[0-9*#]$/.test(raw) ? raw : undefined)).optional(),
  REVIEW_MAX_MONTHS: integer(1, 24).optional(),
  REPEAT_THRESHOLD: variable('must be a number greater than 0 and at most 1', (raw) => {
    const n = Number(raw);
    return raw !== '' && Number.isFinite(n) && n > 0 && n <= 1 ? n : undefined;
  }).optional(),
  ACK_PERIOD_HOURS: integer(1, 720).optional(),
  RAW_RETENTION_DAYS: integer(1, 3650).optional(),
  SHUTDOWN_GRACE_MS: integer(100, 600_000).optional(),
  WRITE_TO_ADDRESS: text(300).optional(),
  WRITE_TO_EMAIL: email().optional(),
  CUSTOMER_REF_PATTERN: variable('must be a regular expression that does not match empty text', parseRegExp).optional(),
  DATA_DIR: text(1024).optional(),
  APPEAL_WORKING_DAYS: integer(1, 120).optional(),
  PRIVACY_NOTICE_URL: url('must be an http:// or https:// URL', ['http:', 'https:']).optional(),
  LETTER_MAX_PAGES: integer(1, 500).optional(),
  LETTER_TIMEOUT_MS: integer(1000, 600_000).optional(),
  BREACH_THRESHOLD: integer(1, 10_000).optional(),
  BREACH_PERIOD_DAYS: integer(1, 366).optional(),
  AUDIT_SAMPLE_SIZE: integer(1, 100).optional(),
  TRUST_PROXY: variable('must be true, false, a hop count, or a comma list of addresses', parseTrustProxy).optional(),
});

type EnvInput = Record<string, string | undefined>;

function describeValue(name: string, raw: string | undefined): string {
  if (raw === undefined) return '';
  if (SECRET_VARIABLES.has(name)) return ` (got a value of ${raw.length} characters, not shown)`;
  const shown = raw.length > 80 ? `${raw.slice(0, 77)}...` : raw;
  return ` (got ${JSON.stringify(shown)})`;
}

function fail(name: string, requirement: string, raw?: string): never {
  throw new ConfigError(name, `Invalid configuration: ${name} ${requirement}${describeValue(name, raw)}`);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !(value instanceof RegExp)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function chooseRedis(env: ReturnType<typeof envSchema.parse>, dataDir: string): Config['redis'] {
  const given = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((k) => env[k] !== undefined);
  if (given.length > 1) fail(given[1] ?? 'REDIS_URL', `cannot be combined with ${given[0] ?? 'REDIS_URL'}: set only one way to reach Redis`);
  if (env.REDIS_SENTINEL_NAME !== undefined && env.REDIS_SENTINELS === undefined) {
    fail('REDIS_SENTINELS', 'must be set when REDIS_SENTINEL_NAME is');
  }
  if (env.REDIS_URL !== undefined) return { kind: 'single', url: env.REDIS_URL };
  if (env.REDIS_CLUSTER_NODES !== undefined) return { kind: 'cluster', nodes: env.REDIS_CLUSTER_NODES };
  if (env.REDIS_SENTINELS !== undefined) {
    if (env.REDIS_SENTINEL_NAME === undefined) fail('REDIS_SENTINEL_NAME', 'must be set when REDIS_SENTINELS is');
    return { kind: 'sentinel', sentinels: env.REDIS_SENTINELS, name: env.REDIS_SENTINEL_NAME };
  }
  return { kind: 'embedded', dataDir };
}

/**
 * Reads and validates the configuration.
 * @param env the environment (default `process.env`); an empty value counts as unset.
 * @returns a frozen {@link Config}.
 * @throws ConfigError with a one-line message naming the first bad variable.
 */
export function loadConfig(env: EnvInput = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const raw = env[key];
    // `FOO=` in a compose file or shell means "not set", not "set to nothing".
    if (raw !== undefined && raw.trim() !== '') input[key] = raw;
  }

  const result = envSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    fail(name, issue?.message ?? 'is invalid', input[name]);
  }
  const e = result.data;
  const nodeEnv = e.NODE_ENV ?? 'development';

  if (nodeEnv === 'production') {
    // The defaults of these two are fictional numbers: a production gate must never send calls into the void.
    if (e.EMERGENCY_NUMBER === undefined) fail('EMERGENCY_NUMBER', 'must be set in production (the default is a placeholder that connects nowhere)');
    if (e.VOICE_DEFAULT_ROUTE === undefined) fail('VOICE_DEFAULT_ROUTE', 'must be set in production (the default is a placeholder that connects nowhere)');
  }

  const dataDirRaw = e.DATA_DIR ?? DEFAULTS.dataDir;
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(process.cwd(), dataDirRaw);
  const port = e.PORT ?? DEFAULTS.port;
  const mailboxDefault = e.MAILBOX_DEFAULT ?? DEFAULTS.mailboxDefault;
  const defaultRoute = parseVoiceRoute(DEFAULTS.voiceDefaultRoute);
  if (defaultRoute === undefined) throw new Error('config/defaults.ts: voiceDefaultRoute does not parse');
  const defaultPattern = parseRegExp(DEFAULTS.customerRefPattern);
  if (defaultPattern === undefined) throw new Error('config/defaults.ts: customerRefPattern does not parse');

  const config: Config = {
    nodeEnv,
    port,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    twilioAuthToken: e.TWILIO_AUTH_TOKEN,
    adminToken: e.GATEKEEPER_ADMIN_TOKEN,
    redis: chooseRedis(e, dataDir),
    smtpPort: e.SMTP_PORT ?? DEFAULTS.smtpPort,
    smtpRelayUrl: e.SMTP_RELAY_URL,
    smtpDomains: e.SMTP_DOMAINS ?? [...DEFAULTS.smtpDomains],
    maxMessageBytes: e.MAX_MESSAGE_BYTES ?? DEFAULTS.maxMessageBytes,
    mailboxDefault,
    mailboxEmergency: e.MAILBOX_EMERGENCY ?? DEFAULTS.mailboxEmergency,
    mailboxPrint: e.MAILBOX_PRINT ?? DEFAULTS.mailboxPrint,
    lettersFrom: e.LETTERS_FROM ?? DEFAULTS.lettersFrom,
    emergencyNumber: e.EMERGENCY_NUMBER ?? DEFAULTS.emergencyNumber,
    voiceDefaultRoute: e.VOICE_DEFAULT_ROUTE ?? defaultRoute,
    timeZone: e.GATEKEEPER_TIMEZONE ?? DEFAULTS.timeZone,
    logLevel: e.LOG_LEVEL ?? DEFAULTS.logLevel,
    voiceLookupBudgetMs: e.VOICE_LOOKUP_BUDGET_MS ?? DEFAULTS.voiceLookupBudgetMs,
    emergencyDigit: e.EMERGENCY_DIGIT ?? DEFAULTS.emergencyDigit,
    reviewMaxMonths: e.REVIEW_MAX_MONTHS ?? DEFAULTS.reviewMaxMonths,
    repeatThreshold: e.REPEAT_THRESHOLD ?? DEFAULTS.repeatThreshold,
    ackPeriodHours: e.ACK_PERIOD_HOURS ?? DEFAULTS.ackPeriodHours,
    rawRetentionDays: e.RAW_RETENTION_DAYS ?? DEFAULTS.rawRetentionDays,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS ?? DEFAULTS.shutdownGraceMs,
    writeToAddress: e.WRITE_TO_ADDRESS ?? DEFAULTS.writeToAddress,
    writeToEmail: e.WRITE_TO_EMAIL ?? DEFAULTS.writeToEmail ?? mailboxDefault,
    customerRefPattern: e.CUSTOMER_REF_PATTERN ?? defaultPattern,
    dataDir,
    outboxDir: resolve(dataDir, 'outbox'),
    trustProxy: e.TRUST_PROXY ?? DEFAULTS.trustProxy,
    appealWorkingDays: e.APPEAL_WORKING_DAYS ?? DEFAULTS.appealWorkingDays,
    privacyNoticeUrl: e.PRIVACY_NOTICE_URL ?? DEFAULTS.privacyNoticeUrl,
    letterMaxPages: e.LETTER_MAX_PAGES ?? DEFAULTS.letterMaxPages,
    letterTimeoutMs: e.LETTER_TIMEOUT_MS ?? DEFAULTS.letterTimeoutMs,
    breachThreshold: e.BREACH_THRESHOLD ?? DEFAULTS.breachThreshold,
    breachPeriodDays: e.BREACH_PERIOD_DAYS ?? DEFAULTS.breachPeriodDays,
    auditSampleSize: e.AUDIT_SAMPLE_SIZE ?? DEFAULTS.auditSampleSize,
  };
  return deepFreeze(config);
}

/**
 * The Twilio auth token, for the parts that serve voice (webhook signature checks).
 * @throws ConfigError when `TWILIO_AUTH_TOKEN` is unset.
 */
export function requireTwilioToken(config: Pick<Config, 'twilioAuthToken'>): string {
  if (config.twilioAuthToken === undefined || config.twilioAuthToken === '') {
    fail('TWILIO_AUTH_TOKEN', 'must be set to serve voice calls (Twilio webhooks are signed with it)');
  }
  return config.twilioAuthToken;
}
