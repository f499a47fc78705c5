/**
 * What the staff API routers need, injected so tests and the process entry point wire the same code
 * to a real store.
 */
import type { Restriction, Staff } from '../rules/types';
import type { DecisionSettings } from '../rules/types';
import type { VoiceRoute } from '../config/env';
import type { Store } from '../store';

/** Settings the staff API reads from config/. */
export interface ApiConfig {
  timeZone: string;
  reviewMaxMonths: number;
  /**
   * How calls are routed (VOICE_DEFAULT_ROUTE): with TaskRouter the named contact is found as a worker, not
   * dialled, so staff with no number are no concern. Absent: assumed dialled (the default route's kind).
   */
  voiceDefaultRoute?: VoiceRoute;
}

export interface ApiDeps {
  store: Store;
  config: ApiConfig;
  settings: DecisionSettings;
  now: () => Date;
  /** Everyone on record, for validating named staff (small: a contact centre's staff list). */
  staffDirectory: () => Promise<Map<string, Staff>>;
  /**
   * Appends to the audit stream; with `onceKey`, only if nothing was ever appended under that key (a
   * retried request that its first attempt may or may not have audited).
   */
  audit: (actorId: string, action: string, record: { id: string; customerId?: string }, details?: Record<string, string>, onceKey?: string) => Promise<void>;
  /** Called after every saved lifecycle transition (notifications, reminders). */
  onTransition?: (before: Restriction, after: Restriction, action: string) => Promise<void>;
}
