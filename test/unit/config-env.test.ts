import { isAbsolute, join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, loadConfig, parseHostPorts, parseVoiceRoute, requireTwilioToken } from '../../config/env';
import { DEFAULTS } from '../../config/defaults';

/** The ConfigError thrown for `env`, or a failure if none is. */
function errorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  const config = loadConfig({});

  it('gives development defaults for every setting', () => {
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      publicUrl: 'http://localhost:3000',
      smtpPort: 2525,
      smtpDomains: ['gatekeeper.local'],
      maxMessageBytes: 26214400,
      mailboxDefault: 'housing@gatekeeper.local',
      mailboxEmergency: 'emergency@gatekeeper.local',
      mailboxPrint: 'print@gatekeeper.local',
      lettersFrom: 'letters@bureau.local',
      emergencyNumber: DEFAULTS.emergencyNumber,
      voiceDefaultRoute: { kind: 'dial', number: '+441632960000' },
      timeZone: 'Europe/London',
      logLevel: 'info',
      voiceLookupBudgetMs: 150,
      emergencyDigit: '1',
      reviewMaxMonths: 6,
      repeatThreshold: 0.35,
      ackPeriodHours: 24,
      rawRetentionDays: 400,
      shutdownGraceMs: 10000,
      writeToEmail: 'housing@gatekeeper.local',
      trustProxy: false,
    });
    expect(config.twilioAuthToken).toBeUndefined();
    expect(config.adminToken).toBeUndefined();
    expect(config.smtpRelayUrl).toBeUndefined();
  });

  it('runs an embedded Redis under an absolute DATA_DIR when no Redis is configured', () => {
    expect(config.redis.kind).toBe('embedded');
    expect(isAbsolute(config.dataDir)).toBe(true);
    expect(config.dataDir).toBe(join(process.cwd(), 'var'));
    expect(config.redis).toEqual({ kind: 'embedded', dataDir: config.dataDir });
    expect(config.outboxDir).toBe(join(config.dataDir, 'outbox'));
  });

  it('finds customer references with the default pattern', () => {
    expect(config.customerRefPattern.exec('Re: complaint C12345 again')?.[0]).toBe('C12345');
    expect(config.customerRefPattern.test('ABC123')).toBe(false);
  });

  it('is frozen, deeply', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.smtpDomains)).toBe(true);
    expect(Object.isFrozen(config.voiceDefaultRoute)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', SMTP_PORT: '  ' }).port).toBe(3000);
  });
});

describe('loadConfig accepts valid values', () => {
  it.each<[string, string, (c: ReturnType<typeof loadConfig>) => unknown, unknown]>([
    ['PORT', '8080', (c) => c.port, 8080],
    ['PUBLIC_URL', 'https://gate.example.org/', (c) => c.publicUrl, 'https://gate.example.org'],
    ['TWILIO_AUTH_TOKEN', '0123456789abcdef0123456789abcdef', (c) => c.twilioAuthToken, '0123456789abcdef0123456789abcdef'],
    ['GATEKEEPER_ADMIN_TOKEN', 'a-long-bootstrap-token', (c) => c.adminToken, 'a-long-bootstrap-token'],
    ['SMTP_PORT', '25', (c) => c.smtpPort, 25],
    ['SMTP_RELAY_URL', 'smtp://relay.example.org:587', (c) => c.smtpRelayUrl, 'smtp://relay.example.org:587'],
    ['SMTP_DOMAINS', 'Landlord.org.uk, housing.example.org,landlord.org.uk', (c) => c.smtpDomains, ['landlord.org.uk', 'housing.example.org']],
    ['MAX_MESSAGE_BYTES', '1048576', (c) => c.maxMessageBytes, 1048576],
    ['MAILBOX_DEFAULT', 'Housing@Landlord.org.uk', (c) => c.mailboxDefault, 'housing@landlord.org.uk'],
    ['MAILBOX_EMERGENCY', 'repairs@landlord.org.uk', (c) => c.mailboxEmergency, 'repairs@landlord.org.uk'],
    ['MAILBOX_PRINT', 'print@landlord.org.uk', (c) => c.mailboxPrint, 'print@landlord.org.uk'],
    ['LETTERS_FROM', 'scans@bureau.example', (c) => c.lettersFrom, 'scans@bureau.example'],
    ['EMERGENCY_NUMBER', '020 7946 0000', (c) => c.emergencyNumber, '+442079460000'],
    ['EMERGENCY_NUMBER', '+441632960123', (c) => c.emergencyNumber, '+441632960123'],
    ['VOICE_DEFAULT_ROUTE', 'dial:+442079460001', (c) => c.voiceDefaultRoute, { kind: 'dial', number: '+442079460001' }],
    ['VOICE_DEFAULT_ROUTE', `enqueue:WW${'a1'.repeat(16)}`, (c) => c.voiceDefaultRoute, { kind: 'enqueue', workflowSid: `WW${'a1'.repeat(16)}` }],
    ['VOICE_DEFAULT_ROUTE', 'redirect:https://twiml.example.org/route', (c) => c.voiceDefaultRoute, { kind: 'redirect', url: 'https://twiml.example.org/route' }],
    ['GATEKEEPER_TIMEZONE', 'Europe/Dublin', (c) => c.timeZone, 'Europe/Dublin'],
    ['LOG_LEVEL', 'debug', (c) => c.logLevel, 'debug'],
    ['VOICE_LOOKUP_BUDGET_MS', '200', (c) => c.voiceLookupBudgetMs, 200],
    ['EMERGENCY_DIGIT', '9', (c) => c.emergencyDigit, '9'],
    ['REVIEW_MAX_MONTHS', '3', (c) => c.reviewMaxMonths, 3],
    ['REPEAT_THRESHOLD', '0.65', (c) => c.repeatThreshold, 0.65],
    ['ACK_PERIOD_HOURS', '48', (c) => c.ackPeriodHours, 48],
    ['RAW_RETENTION_DAYS', '730', (c) => c.rawRetentionDays, 730],
    ['SHUTDOWN_GRACE_MS', '2500', (c) => c.shutdownGraceMs, 2500],
    ['WRITE_TO_ADDRESS', 'Housing Office, 1 High Street, Anytown AB1 2CD', (c) => c.writeToAddress, 'Housing Office, 1 High Street, Anytown AB1 2CD'],
    ['WRITE_TO_EMAIL', 'write@landlord.org.uk', (c) => c.writeToEmail, 'write@landlord.org.uk'],
    ['CUSTOMER_REF_PATTERN', '\\bT\\d{6}\\b', (c) => c.customerRefPattern.source, '\\bT\\d{6}\\b'],
    ['DATA_DIR', '/srv/gatekeeper', (c) => c.dataDir, '/srv/gatekeeper'],
    ['TRUST_PROXY', '1', (c) => c.trustProxy, 1],
    ['TRUST_PROXY', 'loopback', (c) => c.trustProxy, 'loopback'],
    ['NODE_ENV', 'test', (c) => c.nodeEnv, 'test'],
  ])('%s=%s', (name, value, pick, expected) => {
    expect(pick(loadConfig({ [name]: value }))).toEqual(expected);
  });

  it('derives PUBLIC_URL from PORT when unset', () => {
    expect(loadConfig({ PORT: '4000' }).publicUrl).toBe('http://localhost:4000');
  });

  it('defaults WRITE_TO_EMAIL to MAILBOX_DEFAULT', () => {
    expect(loadConfig({ MAILBOX_DEFAULT: 'contact@landlord.org.uk' }).writeToEmail).toBe('contact@landlord.org.uk');
  });
});

describe('loadConfig rejects invalid values with one line naming the variable', () => {
  it.each<[string, string, string]>([
    ['PORT', 'abc', 'must be an integer between 1 and 65535'],
    ['PORT', '0', 'must be an integer between 1 and 65535'],
    ['PORT', '70000', 'must be an integer between 1 and 65535'],
    ['PORT', '80.5', 'must be an integer between 1 and 65535'],
    ['PUBLIC_URL', 'gate.example.org', 'must be an http:// or https:// URL'],
    ['PUBLIC_URL', 'ftp://gate.example.org', 'must be an http:// or https:// URL'],
    ['TWILIO_AUTH_TOKEN', 'two words', 'must be a token without spaces'],
    ['GATEKEEPER_ADMIN_TOKEN', 'short', 'must be at least 16 characters without spaces'],
    ['REDIS_URL', 'http://localhost:6379', 'must be a redis:// or rediss:// URL'],
    ['REDIS_CLUSTER_NODES', 'localhost', 'must be a comma list of host:port'],
    ['REDIS_CLUSTER_NODES', 'a:7000,b:99999', 'must be a comma list of host:port'],
    ['REDIS_SENTINELS', 'a:1,', 'must be a comma list of host:port'],
    ['SMTP_PORT', 'abc', 'must be an integer between 1 and 65535'],
    ['SMTP_RELAY_URL', 'relay.example.org', 'must be an smtp:// or smtps:// URL'],
    ['SMTP_DOMAINS', 'landlord.org.uk,not a domain', 'must be a comma list of domain names'],
    ['SMTP_DOMAINS', ',', 'must be a comma list of domain names'],
    ['MAX_MESSAGE_BYTES', '25MB', 'must be an integer between 1024 and 1073741824'],
    ['MAILBOX_DEFAULT', 'housing', 'must be an email address'],
    ['MAILBOX_EMERGENCY', 'emergency@', 'must be an email address'],
    ['MAILBOX_PRINT', '@print', 'must be an email address'],
    ['LETTERS_FROM', 'letters at bureau', 'must be an email address'],
    ['EMERGENCY_NUMBER', '999', 'must be a phone number in E.164'],
    ['EMERGENCY_NUMBER', 'call us', 'must be a phone number in E.164'],
    ['VOICE_DEFAULT_ROUTE', '+442079460000', 'must be dial:<phone number>, enqueue:<TaskRouter workflow SID WW…> or redirect:<https URL>'],
    ['VOICE_DEFAULT_ROUTE', 'dial:12', 'must be dial:'],
    ['VOICE_DEFAULT_ROUTE', 'enqueue:WW123', 'must be dial:'],
    ['VOICE_DEFAULT_ROUTE', 'redirect:http://twiml.example.org', 'must be dial:'],
    ['VOICE_DEFAULT_ROUTE', 'sip:agent@example.org', 'must be dial:'],
    ['GATEKEEPER_TIMEZONE', 'Europe/Londres', 'must be an IANA time zone'],
    ['GATEKEEPER_TIMEZONE', 'BST', 'must be an IANA time zone'],
    ['LOG_LEVEL', 'loud', 'must be one of error, warn, info, http, verbose, debug, silly, silent'],
    ['VOICE_LOOKUP_BUDGET_MS', '5', 'must be an integer between 10 and 10000'],
    ['EMERGENCY_DIGIT', '10', 'must be one keypad key'],
    ['REVIEW_MAX_MONTHS', '0', 'must be an integer between 1 and 24'],
    ['REPEAT_THRESHOLD', '1.5', 'must be a number greater than 0 and at most 1'],
    ['REPEAT_THRESHOLD', 'high', 'must be a number greater than 0 and at most 1'],
    ['ACK_PERIOD_HOURS', '-1', 'must be an integer between 1 and 720'],
    ['RAW_RETENTION_DAYS', 'forever', 'must be an integer between 1 and 3650'],
    ['SHUTDOWN_GRACE_MS', '10s', 'must be an integer between 100 and 600000'],
    ['WRITE_TO_ADDRESS', 'line one\nline two', 'must be a single line'],
    ['WRITE_TO_EMAIL', 'nobody', 'must be an email address'],
    ['CUSTOMER_REF_PATTERN', '(unclosed', 'must be a regular expression'],
    ['CUSTOMER_REF_PATTERN', '.*', 'must be a regular expression that does not match empty text'],
    ['TRUST_PROXY', 'yes please!', 'must be true, false, a hop count'],
    ['NODE_ENV', 'staging', 'must be one of development, production, test'],
  ])('%s=%j', (name, value, requirement) => {
    const err = errorFor({ [name]: value });
    expect(err.variable).toBe(name);
    expect(err.code).toBe('invalid-config');
    expect(err.message.startsWith(`Invalid configuration: ${name} ${requirement}`)).toBe(true);
    expect(err.message).not.toContain('\n');
  });

  it('quotes the value it got', () => {
    expect(errorFor({ SMTP_PORT: 'abc' }).message).toBe('Invalid configuration: SMTP_PORT must be an integer between 1 and 65535 (got "abc")');
  });

  it('never repeats a secret', () => {
    for (const [name, value] of [
      ['GATEKEEPER_ADMIN_TOKEN', 'hunter2'],
      ['TWILIO_AUTH_TOKEN', 'sec ret'],
      ['REDIS_URL', 'http://user:topsecret@host'],
      ['SMTP_RELAY_URL', 'http://user:topsecret@relay'],
    ] as const) {
      const err = errorFor({ [name]: value });
      expect(err.variable).toBe(name);
      expect(err.message).not.toContain(value);
      expect(err.message).toContain('not shown');
    }
  });

  it('reports the first bad variable when several are bad', () => {
    expect(errorFor({ SMTP_PORT: 'x', PORT: 'y' }).variable).toBe('PORT');
  });

  it('rejects every port outside 1–65535 and accepts every one inside', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100_000, max: 200_000 }), (port) => {
        if (port >= 1 && port <= 65535) {
          expect(loadConfig({ PORT: String(port) }).port).toBe(port);
        } else {
          expect(errorFor({ PORT: String(port) }).variable).toBe('PORT');
        }
      }),
    );
  });
});

describe('Redis target', () => {
  it('REDIS_URL → single', () => {
    expect(loadConfig({ REDIS_URL: 'redis://:pw@redis.internal:6380/0' }).redis).toEqual({ kind: 'single', url: 'redis://:pw@redis.internal:6380/0' });
  });

  it('REDIS_CLUSTER_NODES → cluster', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'r1:7000, r2:7001,[::1]:7002' }).redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'r1', port: 7000 },
        { host: 'r2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
  });

  it('REDIS_SENTINELS + REDIS_SENTINEL_NAME → sentinel', () => {
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'gk-primary' }).redis).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'gk-primary',
    });
  });

  it('needs REDIS_SENTINEL_NAME with REDIS_SENTINELS, and the other way round', () => {
    expect(errorFor({ REDIS_SENTINELS: 's1:26379' }).message).toBe('Invalid configuration: REDIS_SENTINEL_NAME must be set when REDIS_SENTINELS is');
    expect(errorFor({ REDIS_SENTINEL_NAME: 'gk' }).variable).toBe('REDIS_SENTINELS');
  });

  it('refuses two ways to reach Redis at once', () => {
    const err = errorFor({ REDIS_URL: 'redis://localhost:6379', REDIS_CLUSTER_NODES: 'r1:7000' });
    expect(err.variable).toBe('REDIS_CLUSTER_NODES');
    expect(err.message).toContain('cannot be combined with REDIS_URL');
  });
});

describe('production', () => {
  const production = { NODE_ENV: 'production', EMERGENCY_NUMBER: '+442079460999', VOICE_DEFAULT_ROUTE: 'dial:+442079460000' };

  it('starts when the placeholders are replaced', () => {
    expect(loadConfig(production).nodeEnv).toBe('production');
  });

  it.each(['EMERGENCY_NUMBER', 'VOICE_DEFAULT_ROUTE'])('refuses to start without %s', (name) => {
    const env: Record<string, string> = { ...production };
    delete env[name];
    const err = errorFor(env);
    expect(err.variable).toBe(name);
    expect(err.message).toBe(`Invalid configuration: ${name} must be set in production (the default is a placeholder that connects nowhere)`);
  });
});

describe('requireTwilioToken', () => {
  it('returns the token when set', () => {
    expect(requireTwilioToken(loadConfig({ TWILIO_AUTH_TOKEN: 'tok_123' }))).toBe('tok_123');
  });

  it('throws a ConfigError naming TWILIO_AUTH_TOKEN when voice is served without it', () => {
    expect(() => requireTwilioToken(loadConfig({}))).toThrow(ConfigError);
    expect(() => requireTwilioToken(loadConfig({}))).toThrow(/^Invalid configuration: TWILIO_AUTH_TOKEN must be set to serve voice calls/);
  });
});

describe('parsers', () => {
  it('parseVoiceRoute normalises a national number to E.164', () => {
    expect(parseVoiceRoute('dial:020 7946 0000')).toEqual({ kind: 'dial', number: '+442079460000' });
    expect(parseVoiceRoute('nothing')).toBeUndefined();
  });

  it('parseHostPorts reads any list of valid host:port pairs back', () => {
    const host = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
    fc.assert(
      fc.property(fc.array(fc.record({ host, port: fc.integer({ min: 1, max: 65535 }) }), { minLength: 1, maxLength: 6 }), (nodes) => {
        expect(parseHostPorts(nodes.map((n) => `${n.host}:${n.port}`).join(','))).toEqual(nodes);
      }),
    );
  });
});

describe('lifecycle and letter settings', () => {
  it('has documented defaults', () => {
    const c = loadConfig({});
    expect([c.appealWorkingDays, c.letterMaxPages, c.letterTimeoutMs, c.breachThreshold, c.breachPeriodDays, c.auditSampleSize]).toEqual([20, 20, 20000, 5, 30, 5]);
    expect(c.privacyNoticeUrl).toMatch(/^https:\/\//);
  });

  it.each([
    ['APPEAL_WORKING_DAYS', '0'],
    ['PRIVACY_NOTICE_URL', 'ftp://x'],
    ['LETTER_MAX_PAGES', 'many'],
    ['BREACH_THRESHOLD', '-1'],
    ['AUDIT_SAMPLE_SIZE', '1000'],
  ])('names %s when it is invalid', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name} `));
  });
});
