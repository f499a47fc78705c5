/**
 * Shapes the store persists beyond the domain types of rules/types.ts: recorded contacts, responses and
 * audit records.
 */
import type { Channel, Outcome, ReasonCode } from '../rules/types';

/**
 * A contact as recorded: what came in, and what was decided. Never the message text, which is kept
 * apart with a retention TTL (see {@link ContactRepository.record}).
 */
export interface StoredContact {
  /** Stable per inbound event (CallSid, Message-ID hash, letter id): recording is idempotent by it. */
  id: string;
  channel: Channel;
  /** ISO instant. */
  receivedAt: string;
  /** The sender, normalised (E.164 or lower-cased address) when it can be. */
  from?: string;
  outcome: Outcome;
  reasons: ReasonCode[];
  restrictionId?: string;
  words?: number;
  breach?: boolean;
  routeTo?: string;
  subject?: string;
  /** Channel-specific progress, e.g. a call's final status or `forwarded`. */
  status?: string;
  details?: Record<string, string | number | boolean>;
}

/** The fields of a recorded contact that may change after it was recorded. */
export type ContactPatch = Partial<Omit<StoredContact, 'id' | 'receivedAt' | 'channel'>>;

/** A response recorded through `POST /v1/customers/:id/responses`. */
export interface ResponseInput {
  reference: string;
  /** ISO instant. */
  respondedAt: string;
  summary: string;
  contactIds: string[];
}

/** What recording a response did with the contacts it names. */
export interface RecordedResponse {
  /** Contacts whose text was copied into the responded list (repeat detection can use them). */
  copied: string[];
  /** Contacts with no stored text: unknown, expired, or never written (e.g. calls). */
  missing: string[];
}

/** One audit record as appended. */
export interface AuditEntry {
  /** Staff id, `system`, or a channel (`twilio`, `smtp`). */
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  /** ISO instant. */
  at: string;
  details?: Record<string, unknown>;
}

/** An audit record as read back, with its stream id (`<ms>-<seq>`), which orders records. */
export interface AuditRecord extends AuditEntry {
  id: string;
}
