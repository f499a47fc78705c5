/**
 * The organisation-wide settings `rules/decide` takes, built from the configuration in one place for every
 * channel: the gateway (calls, `POST /v1/decisions`) and the workers (email and letters) decide alike.
 */
import type { Config } from '../config/env';
import { EMERGENCY_PHRASES } from '../config/emergency-phrases';
import type { DecisionSettings } from '../rules/types';

/** Decision settings from the validated configuration. */
export function decisionSettings(
  config: Pick<Config, 'timeZone' | 'emergencyNumber' | 'writeToAddress' | 'writeToEmail' | 'repeatThreshold'>,
): DecisionSettings {
  return {
    timeZone: config.timeZone,
    emergencyNumber: config.emergencyNumber,
    writeToAddress: config.writeToAddress,
    writeToEmail: config.writeToEmail,
    repeatThreshold: config.repeatThreshold,
    emergencyPhrases: EMERGENCY_PHRASES,
  };
}
