/**
 * The domain vocabulary of Gatekeeper (DESIGN.md §2–§3). Every name and JSON shape here is part of the
 * fixed contract that other systems rely on: change none of them without changing DESIGN.md first.
 */

/** The ways a customer can reach us. `visit` is a reception / walk-in check. */
export const CHANNELS = ['voice', 'email', 'letter', 'visit'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Behaviour categories of policy §4. */
export const CATEGORIES = ['excessive-contact', 'multiple-unsubstantiated', 'abusive-contact', 'other'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Staff roles (DESIGN.md §2). */
export const ROLES = ['agent', 'staff', 'manager', 'tenancy-specialist', 'ts-manager', 'admin', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

/** Day names as they appear in call windows, Monday first. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Customer needs vocabulary; `interpreter:<lang>` is open-ended, and other strings are allowed (extendable). */
export type Need = string;

export interface Customer {
  id: string;
  name: string;
  /** E.164 numbers. */
  phones: string[];
  /** Lower-cased addresses. */
  emails: string[];
  needs: Need[];
  preferredChannel?: Channel;
  language?: string;
}

export interface Staff {
  id: string;
  name: string;
  email: string;
  phone?: string;
  /** Twilio Client identity, dialled with `<Client>` in preference to the phone number. */
  clientIdentity?: string;
  roles: Role[];
}

/** A weekly window: local wall-clock `HH:mm`, start inclusive, end exclusive. */
export interface CallWindow {
  days: Weekday[];
  start: string;
  end: string;
}

export interface CallTimesMeasure {
  type: 'call-times';
  windows: CallWindow[];
  /** `closed` (default) closes the windows on England & Wales bank holidays. */
  bankHolidays?: 'closed' | 'open';
}
export interface NamedContactMeasure {
  type: 'named-contact';
  staffId: string;
  deputyId?: string;
}
export interface AppointmentsOnlyMeasure {
  type: 'appointments-only';
  staffId: string;
}
export interface WrittenOnlyMeasure {
  type: 'written-only';
  /** The written channels the customer may use; defaults to letter and email. */
  channels: Array<'letter' | 'email'>;
}
export interface WordLimitMeasure {
  type: 'word-limit';
  maxWords: number;
}
export interface ResponseFrequencyMeasure {
  type: 'response-frequency';
  /** ISO-8601 duration, e.g. `P7D`. */
  every: string;
  /** The weekday on which responses are sent, when fixed. */
  weekday?: Weekday;
}
export interface NewIssuesOnlyMeasure {
  type: 'new-issues-only';
}
export interface OtherMeasure {
  type: 'other';
  description: string;
}

export type Measure =
  | CallTimesMeasure
  | NamedContactMeasure
  | AppointmentsOnlyMeasure
  | WrittenOnlyMeasure
  | WordLimitMeasure
  | ResponseFrequencyMeasure
  | NewIssuesOnlyMeasure
  | OtherMeasure;
export type MeasureType = Measure['type'];
export const MEASURE_TYPES: readonly MeasureType[] = [
  'call-times',
  'named-contact',
  'appointments-only',
  'written-only',
  'word-limit',
  'response-frequency',
  'new-issues-only',
  'other',
];

export const RESTRICTION_STATUSES = ['requested', 'pending-approval', 'active', 'lifted', 'expired', 'rejected'] as const;
export type RestrictionStatus = (typeof RESTRICTION_STATUSES)[number];

export interface Evidence {
  type: string;
  reference: string;
  note?: string;
}
export interface Warning {
  type: 'informal' | 'formal';
  date: string;
  reference?: string;
}
export interface Adjustment {
  need: Need;
  arrangement: string;
}

/** A one-off permission granted by a tenancy specialist (e.g. an arranged call back). */
export interface RestrictionException {
  id: string;
  channel: Channel;
  /** ISO instants. */
  from: string;
  until: string;
  note: string;
  /** The member of staff who arranged it; calls are routed to them. */
  staffId: string;
  createdAt: string;
}

/** One step in a restriction's life: who, when, why. */
export interface Transition {
  action: string;
  from: RestrictionStatus | null;
  to: RestrictionStatus;
  by: string;
  at: string;
  note?: string;
}

export interface Appeal {
  receivedAt: string;
  recordedBy: string;
  grounds: string;
  outcome?: 'upheld' | 'dismissed' | 'varied';
  decidedBy?: string;
  decidedAt?: string;
  note?: string;
}

export interface Review {
  at: string;
  by: string;
  outcome: 'continue' | 'vary' | 'lift';
  note: string;
  nextReviewAt?: string;
}

export interface Restriction {
  id: string;
  customerId: string;
  status: RestrictionStatus;
  category: Category;
  summary: string;
  evidence: Evidence[];
  authorisedBy: string;
  warnings: Warning[];
  noWarningReason?: string;
  requestedBy: string;
  requestedAt: string;
  decidedBy?: string;
  decidedAt?: string;
  approvedBy?: string;
  approvedAt?: string;
  measures: Measure[];
  startsAt?: string;
  endsAt?: string;
  reviewAt?: string;
  singlePointOfContact?: string;
  adjustments: Adjustment[];
  exceptions: RestrictionException[];
  appealed: boolean;
  appeal?: Appeal;
  reviews: Review[];
  history: Transition[];
}

/**
 * What the gate needs to know of one restriction to enforce it; no reason or evidence, so it is safe to
 * cache next to identities and to show to agents.
 */
export interface EnforcedRestriction {
  id: string;
  status: RestrictionStatus;
  measures: Measure[];
  startsAt?: string;
  endsAt?: string;
  reviewAt?: string;
  singlePointOfContact?: string;
  adjustments: Adjustment[];
  exceptions: RestrictionException[];
  /** An appeal awaits its outcome (not merely "was appealed": see `isAppealOpen`). */
  appealed: boolean;
}

/** Display data for staff named in measures, resolved when the snapshot is written. */
export interface StaffRef {
  id: string;
  name: string;
  phone?: string;
  clientIdentity?: string;
  email?: string;
}

/** Everything the gate needs of one customer, resolvable from an identity in one round trip. */
export interface GateSnapshot {
  customerId: string;
  name: string;
  needs: Need[];
  restrictions: EnforcedRestriction[];
  staff: Record<string, StaffRef>;
}

/** An earlier contact that received a response: the basis of "new issues only". */
export interface RespondedContact {
  contactId: string;
  text: string;
  respondedAt: string;
  reference: string;
}

/** One inbound contact, as the channel adapters translate it. */
export interface Contact {
  channel: Channel;
  /** Phone number (E.164 or as received) or email address, as received. */
  from?: string;
  customerId?: string;
  subject?: string;
  text?: string;
  /** Set when the caller pressed the emergency digit, or a person flagged it. */
  emergency?: boolean;
  /** Word count already made by the channel (e.g. a letter counted by hand); else counted from `text`. */
  words?: number;
}

/** What the gate knows about who the contact is from, and what applies to them. */
export type Identification =
  | { kind: 'resolved'; snapshot: GateSnapshot; responded?: RespondedContact[] }
  | { kind: 'unidentified' }
  | { kind: 'ambiguous'; customerIds: string[] }
  /** The restriction store could not be asked in time: proceed on the normal route, flagged. */
  | { kind: 'unavailable' };

export const REASON_CODES = [
  'no-restriction',
  'unidentified',
  'ambiguous-identity',
  'outside-call-times',
  'bank-holiday',
  'written-only',
  'named-contact',
  'appointment-required',
  'word-limit-exceeded',
  'response-frequency',
  'repeat-issue',
  'emergency',
  'restriction-check-unavailable',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export type Outcome = 'proceed' | 'deflect' | 'emergency';

/** The fixed Decision JSON of DESIGN.md §3. */
export interface Decision {
  outcome: Outcome;
  customerId?: string;
  restrictionId?: string;
  routeTo?: string;
  respondAfter?: string;
  nextAllowedAt?: string;
  wordLimit?: { limit: number; words: number; exceeded: boolean };
  repeatOf?: { contactId: string; respondedAt: string; reference: string };
  breach?: boolean;
  reasons: ReasonCode[];
  agentFlags: string[];
  customerMessage?: string;
  /** Not in the fixed contract's example, but additive: the written route for deflected callers. */
  exceptionId?: string;
}

/** Organisation-wide settings the decision needs (from config/, passed in so rules/ stays pure). */
export interface DecisionSettings {
  /** IANA zone for call windows; default `Europe/London`. */
  timeZone: string;
  /** How a customer reports an emergency, spoken/written to them. */
  emergencyNumber: string;
  /** The postal address and email address for written contact, for customer messages. */
  writeToAddress: string;
  writeToEmail: string;
  /** Similarity threshold (0–1) above which a text is a repeat of an earlier responded-to contact. */
  repeatThreshold: number;
  /** Emergency phrases (config/emergency-phrases.ts). */
  emergencyPhrases: readonly string[];
}
