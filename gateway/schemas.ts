/**
 * Request body schemas for the staff API (DESIGN.md §4). Shapes only: the domain rules (rules/) decide
 * what is allowed, so a well-formed but unacceptable request gets a 422 with the rule's code.
 */
import { z } from 'zod';
import { CHANNELS, ROLES, WEEKDAYS, type CallTimesMeasure } from '../rules/types';

const id = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
const text = (max: number) => z.string().trim().min(1).max(max);
const instant = z.iso.datetime({ offset: true });
/**
 * For the fields that are dates to the people who set them (a review date, a start or end date, when an
 * appeal was made): a full instant, or a calendar date taken as its midnight UTC, so that
 * `"reviewAt": "2027-02-01"` meets the rules (e.g. 422 `review-too-late`) instead of a 400.
 */
const dateOrInstant = z.union([instant, z.iso.date().transform((date) => `${date}T00:00:00Z`)]);

export const staffBody = z.object({
  id,
  name: text(200),
  email: z.email().max(320),
  phone: z.string().max(40).optional(),
  clientIdentity: z.string().max(120).optional(),
  roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length),
});

export const customerBody = z.object({
  name: text(200),
  phones: z.array(z.string().max(40)).max(20).default([]),
  emails: z.array(z.email().max(320)).max(20).default([]),
  needs: z.array(z.string().trim().min(1).max(60)).max(30).default([]),
  preferredChannel: z.enum(CHANNELS).optional(),
  language: z.string().max(35).optional(),
});

export const measureSchema = z.discriminatedUnion('type', [
  // Call windows are checked by the rules (rules/call-windows.ts), so that every malformed window — a bad
  // day or time, none at all, a start after its end — is the 422 `malformed-window` DESIGN.md §2 fixes,
  // not a 400 for some and a 422 for others. Only their number is bounded here.
  z
    .object({
      type: z.literal('call-times'),
      // Not a list at all (`null`, `"tue 10-12"`) is a malformed window too: the rules say so.
      windows: z.union([z.array(z.unknown()).max(21), z.unknown().refine((w) => !Array.isArray(w))]).optional(),
      bankHolidays: z.unknown().optional(),
    })
    .transform((m) => m as unknown as CallTimesMeasure),
  z.object({ type: z.literal('named-contact'), staffId: id, deputyId: id.optional() }),
  z.object({ type: z.literal('appointments-only'), staffId: id }),
  z.object({ type: z.literal('written-only'), channels: z.array(z.enum(['letter', 'email'])).max(2).default(['letter', 'email']) }),
  z.object({ type: z.literal('word-limit'), maxWords: z.number().int().min(1).max(100_000) }),
  z.object({ type: z.literal('response-frequency'), every: z.string().max(20), weekday: z.enum(WEEKDAYS).optional() }),
  z.object({ type: z.literal('new-issues-only') }),
  z.object({ type: z.literal('other'), description: text(500) }),
]);

const evidence = z.object({ type: text(60), reference: text(200), note: z.string().max(2000).optional() });
/**
 * A warning's `date` is any short string here: whether it is a real date that is not in the future is the
 * rules' business (422 `invalid-dates`, rules/lifecycle.ts), because a warning that was not given cannot
 * count as the one the contract's `no-warning` rule asks for. Only a wrong JSON type or an absurd length is a
 * malformed body (400).
 */
const warning = z.object({ type: z.enum(['informal', 'formal']), date: z.string().max(40), reference: z.string().max(200).optional() });
const adjustment = z.object({ need: text(60), arrangement: text(500) });

/** `category` and `evidence` are checked by the rules (422 no-category / no-evidence), so absent ones pass here. */
export const requestBody = z.object({
  customerId: id,
  category: z.string().max(60).optional().default(''),
  summary: z.string().max(4000).optional().default(''),
  evidence: z.array(evidence).max(50).optional().default([]),
  authorisedBy: z.string().max(64).optional().default(''),
  warnings: z.array(warning).max(20).optional(),
  noWarningReason: z.string().max(2000).optional(),
});

/**
 * The contract names no field for the free text of a lifecycle step, and `/reject` and `/lift` ask for a
 * `reason` while the others ask for a `note`: each also takes the other name, so a client that guessed
 * the other one is not refused for it.
 */
function alsoNamed(from: string, to: string): (body: unknown) => unknown {
  return (body) => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
    const record = body as Record<string, unknown>;
    return record[to] === undefined && record[from] !== undefined ? { ...record, [to]: record[from] } : body;
  };
}

/**
 * The optional "why" of a step whose contract body names none (`/decide`, `/approve`): `note`, as the other
 * steps but `/reject` and `/lift` call it, also taken as `reason`. Blank is no note (the rules drop it).
 */
const optionalNote = z.string().max(4000).optional();

export const decideBody = z.preprocess(
  alsoNamed('reason', 'note'),
  z.object({
    measures: z.array(measureSchema).max(20),
    startsAt: dateOrInstant.optional(),
    reviewAt: dateOrInstant.optional(),
    endsAt: dateOrInstant.optional(),
    singlePointOfContact: id,
    adjustments: z.array(adjustment).max(20).optional(),
    note: optionalNote,
  }),
);

/** `/approve` has no fixed body: none at all (no `Content-Type`, so express leaves `req.body` unset) is `{}`. */
export const approveBody = z.preprocess((body) => alsoNamed('reason', 'note')(body ?? {}), z.object({ note: optionalNote }));

export const reasonBody = z.preprocess(alsoNamed('note', 'reason'), z.object({ reason: text(2000) }));

export const reviewBody = z.preprocess(
  alsoNamed('reason', 'note'),
  z.object({
    outcome: z.enum(['continue', 'vary', 'lift']),
    note: text(4000),
    nextReviewAt: dateOrInstant.optional(),
    measures: z.array(measureSchema).max(20).optional(),
    adjustments: z.array(adjustment).max(20).optional(),
    endsAt: dateOrInstant.optional(),
  }),
);

export const varyBody = z.preprocess(
  alsoNamed('reason', 'note'),
  z.object({
    measures: z.array(measureSchema).max(20),
    note: text(4000),
    reviewAt: dateOrInstant.optional(),
    endsAt: dateOrInstant.optional(),
    singlePointOfContact: id.optional(),
    adjustments: z.array(adjustment).max(20).optional(),
  }),
);

export const appealBody = z.object({ grounds: text(4000), receivedAt: dateOrInstant.optional() });

export const appealOutcomeBody = z.preprocess(
  alsoNamed('reason', 'note'),
  z.object({
    outcome: z.enum(['upheld', 'dismissed', 'varied']),
    note: text(4000),
    measures: z.array(measureSchema).max(20).optional(),
  }),
);

export const exceptionBody = z.preprocess(alsoNamed('reason', 'note'), z.object({ channel: z.enum(CHANNELS), from: instant, until: instant, note: text(1000) }));

export const decisionBody = z.object({
  channel: z.enum(CHANNELS),
  from: z.string().max(320).optional(),
  customerId: id.optional(),
  at: instant.optional(),
  text: z.string().max(200_000).optional(),
  subject: z.string().max(1000).optional(),
  emergency: z.boolean().optional(),
  words: z.number().int().min(0).optional(),
});

/**
 * `respondedAt` is kept as sent (an instant, or a calendar date), unlike {@link dateOrInstant}: whether it is
 * in the future is judged by the route, and a calendar date by its day in the configured zone (today's date,
 * taken as midnight UTC, is still ahead of the clock in the first hour of a British Summer Time day).
 */
export const responseBody = z.object({
  reference: text(200),
  respondedAt: z.union([instant, z.iso.date()]),
  summary: text(4000),
  contactIds: z.array(z.string().min(1).max(200)).min(1).max(100),
});

export const statusQuery = z.object({
  status: z.enum(['requested', 'pending-approval', 'active', 'lifted', 'expired', 'rejected']).optional(),
});

export const contactsQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });
