/**
 * config/ — everything Gatekeeper reads from its environment, and the logger. Imports nothing of the project.
 * Start here: `loadConfig()` validates the environment once; `config/defaults.ts` documents every setting.
 */
export { ConfigError, loadConfig, requireTwilioToken, parseVoiceRoute, parseHostPorts, parsePhone } from './env';
export type { Config, EmbeddedRedisConfig, HostPort, NodeEnv, RedisTargetConfig, VoiceRoute } from './env';
export { DEFAULTS, LOG_LEVELS } from './defaults';
export type { LogLevel } from './defaults';
export { createLogger, isLogLevel, logger, redactText, redactValue, setLogLevel } from './logger';
export type { Logger } from './logger';
