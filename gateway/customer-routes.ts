/**
 * Customers, their flags (what agents may see), their contact history and recorded responses
 * (DESIGN.md §4).
 */
import { Router, type Request, type Response } from 'express';
import { EMERGENCY_FLAG, restrictionFlags } from '../rules/agent-flags';
import { isEnforceable, requirePastDate } from '../rules/lifecycle';
import { leavesNoUsableChannel } from '../rules/validation';
import type { Customer, EnforcedRestriction, GateSnapshot, Role, Staff } from '../rules/types';
import { normaliseEmail, normalisePhone } from '../store/identity';
import type { StoredContact } from '../store/types';
import { requireRole } from './auth';
import type { ApiDeps } from './api-deps';
import { NotFound, Unprocessable } from './errors';
import { contactsQuery, customerBody, responseBody } from './schemas';
import { parseBody, parseQuery } from './validate';

const ANY_STAFF: Role[] = ['agent', 'staff', 'manager', 'tenancy-specialist', 'ts-manager', 'admin'];

/**
 * The keys of a contact's `details` that the contact history shows, by the channel that writes them. A list
 * of what may be shown rather than of what may not: the history must never carry a message's words, and a
 * key a channel adds later stays out of the answer until someone has looked at it and added it here.
 */
const SHOWN_DETAILS = new Set([
  // Calls (channels/voice/evidence.ts and call-flow.ts): the exception that let the call through; the
  // call's final status and length; who answered a <Dial> or the queue, after how long; a voicemail left.
  'exceptionId',
  'callStatus',
  'durationSeconds',
  'dialStatus',
  'talkSeconds',
  'answeredBy',
  'queueResult',
  'queueSeconds',
  'voicemailFor',
  'recordingSid',
  'recordingSeconds',
  // Email and letters (workers/process-message-worker.ts): facts about the message, never its words.
  'malformed',
  'attachments',
  'acknowledge',
  'manualCount',
]);

/** A calendar date as `responseBody` lets it through (anything else there is an instant). */
const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `{ details }` with the details of a contact that the history shows ({@link SHOWN_DETAILS}), or `{}` when none. */
function shownDetails(contact: StoredContact): Pick<StoredContact, 'details'> {
  const kept = Object.entries(contact.details ?? {}).filter(([key]) => SHOWN_DETAILS.has(key));
  return kept.length === 0 ? {} : { details: Object.fromEntries(kept) };
}

/** A response's warning: it was recorded, but some contacts it names give repeat detection nothing to compare. */
interface ResponseWarning {
  code: 'unknown-contacts' | 'no-text';
  contactIds: string[];
  message: string;
}

function param(req: Request, name: string): string {
  const v = req.params[name];
  return typeof v === 'string' ? v : '';
}

/** Builds the router for /v1/customers. */
export function createCustomerRouter(deps: ApiDeps): Router {
  const router = Router();
  const { store } = deps;

  async function mustGet(id: string): Promise<Customer> {
    const c = await store.customers.get(id);
    if (!c) throw new NotFound('customer-not-found', `No customer ${id}`);
    return c;
  }

  /** The customer's gate snapshot (what agents and the gate see) and its restrictions in force at `now`. */
  async function enforcedOf(id: string, now: Date): Promise<{ snapshot: GateSnapshot | undefined; enforced: EnforcedRestriction[] }> {
    const ident = await store.gate.resolve({ customerId: id });
    const snapshot = ident.kind === 'resolved' ? ident.snapshot : undefined;
    return { snapshot, enforced: (snapshot?.restrictions ?? []).filter((r) => isEnforceable(r, now)) };
  }

  /**
   * The restrictions in force that leave the customer no usable channel with their needs as stored now
   * (rules/validation.ts `leavesNoUsableChannel`), as warnings for the answer to whoever changed the needs.
   */
  async function strandedBy(id: string): Promise<Array<{ code: 'no-usable-channel'; restrictionIds: string[]; message: string }>> {
    const { snapshot, enforced } = await enforcedOf(id, deps.now());
    if (snapshot === undefined || !leavesNoUsableChannel(enforced, snapshot.needs)) return [];
    return [
      {
        code: 'no-usable-channel',
        restrictionIds: enforced.map((r) => r.id),
        message:
          'With these needs the restriction in force leaves the customer no way to contact us. Their calls and visits are let through ' +
          'until a tenancy specialist reviews it (vary it, or record a reasonable adjustment).',
      },
    ];
  }

  router.get('/', requireRole(...ANY_STAFF), async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.trim() : '';
    if (q.length < 2 || q.length > 200) throw new Unprocessable('invalid-query', 'Search with at least 2 characters (q)');
    res.json(await store.customers.search(q));
  });

  router.put('/:id', requireRole('admin', 'tenancy-specialist'), async (req, res) => {
    const id = param(req, 'id');
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(id)) throw new Unprocessable('invalid-id', 'Customer ids are letters, digits and . _ : -');
    const body = parseBody(customerBody, req.body);
    const phones = body.phones.map((raw, i) => {
      const e164 = normalisePhone(raw);
      if (!e164) throw new Unprocessable('invalid-phone', `phones[${i}] is not a valid phone number`);
      return e164;
    });
    const emails = body.emails.map((raw, i) => {
      const email = normaliseEmail(raw);
      if (!email) throw new Unprocessable('invalid-email', `emails[${i}] is not a valid email address`);
      return email;
    });
    const customer: Customer = {
      id,
      name: body.name,
      phones: [...new Set(phones)],
      emails: [...new Set(emails)],
      needs: body.needs,
      ...(body.preferredChannel ? { preferredChannel: body.preferredChannel } : {}),
      ...(body.language ? { language: body.language } : {}),
    };
    const existed = (await store.customers.get(id)) !== undefined;
    await store.customers.put(customer);
    await deps.audit((res.locals.staff as Staff).id, existed ? 'customer.update' : 'customer.create', { id, customerId: id });
    // Needs are facts and are recorded whatever the restrictions say; but when they leave the customer no way
    // in under a restriction in force, whoever recorded them is told (and agents see it in the flags).
    const stranded = existed ? await strandedBy(id) : [];
    res.status(existed ? 200 : 201).json(stranded.length === 0 ? customer : { ...customer, warnings: stranded });
  });

  router.get('/:id', requireRole(...ANY_STAFF), async (req, res) => {
    res.json(await mustGet(param(req, 'id')));
  });

  /** Flags and terms only — never the reason, summary or evidence. */
  router.get('/:id/flags', requireRole(...ANY_STAFF), async (req, res: Response) => {
    const id = param(req, 'id');
    const customer = await mustGet(id);
    const now = deps.now();
    const { snapshot, enforced } = await enforcedOf(id, now);
    const staff = snapshot?.staff ?? {};
    const name = (sid: string | undefined) => (sid ? { id: sid, name: staff[sid]?.name ?? sid } : undefined);
    res.json({
      customerId: id,
      name: customer.name,
      needs: customer.needs,
      restricted: enforced.length > 0,
      flags: restrictionFlags(enforced, staff, now, deps.config.timeZone, leavesNoUsableChannel(enforced, customer.needs)),
      emergency: EMERGENCY_FLAG,
      restrictions: enforced.map((r) => ({
        id: r.id,
        measures: r.measures,
        startsAt: r.startsAt,
        endsAt: r.endsAt,
        reviewAt: r.reviewAt,
        singlePointOfContact: name(r.singlePointOfContact),
        appealed: r.appealed,
        exceptions: r.exceptions.filter((e) => new Date(e.until).getTime() > now.getTime()),
      })),
    });
  });

  router.get('/:id/contacts', requireRole('tenancy-specialist', 'ts-manager'), async (req, res) => {
    const id = param(req, 'id');
    await mustGet(id);
    const { limit } = parseQuery(contactsQuery, req.query);
    const contacts = await store.contacts.list(id, limit);
    res.json(
      contacts.map((c) => ({
        id: c.id,
        channel: c.channel,
        receivedAt: c.receivedAt,
        outcome: c.outcome,
        reasons: c.reasons,
        ...(c.restrictionId ? { restrictionId: c.restrictionId } : {}),
        ...(c.words !== undefined ? { words: c.words } : {}),
        ...(c.breach !== undefined ? { breach: c.breach } : {}),
        ...(c.status ? { status: c.status } : {}),
        ...(c.routeTo ? { routeTo: c.routeTo } : {}),
        ...shownDetails(c),
      })),
    );
  });

  router.post('/:id/responses', requireRole('staff', 'tenancy-specialist', 'ts-manager', 'manager'), async (req, res) => {
    const id = param(req, 'id');
    await mustGet(id);
    const body = parseBody(responseBody, req.body);
    const respondedAt = notInFuture(body.respondedAt, deps.now());
    const contactIds = [...new Set(body.contactIds)];
    // Side by side: which contacts are in the history (one round trip), and the recording itself.
    const [known, recorded] = await Promise.all([store.contacts.known(id, contactIds), store.responses.record(id, { ...body, respondedAt })]);
    await deps.audit((res.locals.staff as Staff).id, 'response.record', { id: body.reference, customerId: id });
    const warnings = responseWarnings(contactIds, known, new Set(recorded.missing));
    res.status(201).json({ customerId: id, reference: body.reference, contactIds: body.contactIds, ...(warnings.length > 0 ? { warnings } : {}) });
  });

  /**
   * `respondedAt` as stored (a calendar date as its midnight UTC), refusing one that has not happened yet: a
   * date or instant whose day, in the configured zone, is after today — the rule for every date of something
   * that has happened (rules/lifecycle.ts `requirePastDate`; a reply timed for this afternoon's post is today's).
   * @throws RuleError `invalid-dates` (422).
   */
  function notInFuture(value: string, now: Date): string {
    requirePastDate(value, 'respondedAt', { now, timeZone: deps.config.timeZone });
    return CALENDAR_DATE.test(value) ? `${value}T00:00:00Z` : value;
  }

  return router;
}

/**
 * What a recorded response should tell whoever recorded it: contacts it names that are not in the customer's
 * history (a mistyped id, or a contact made off the system), and contacts with no text to remember (calls,
 * or text past its retention), because repeat detection cannot compare a new message with either.
 * @param known the named contacts that are in the history.
 * @param missing the named contacts whose text was not copied into the responded list.
 */
function responseWarnings(contactIds: string[], known: Set<string>, missing: Set<string>): ResponseWarning[] {
  const unknown = contactIds.filter((c) => !known.has(c));
  const noText = contactIds.filter((c) => known.has(c) && missing.has(c));
  const warnings: ResponseWarning[] = [];
  if (unknown.length > 0) {
    warnings.push({
      code: 'unknown-contacts',
      contactIds: unknown,
      message:
        'These contacts are not in the customer’s contact history. The response is recorded, but repeat detection has nothing of theirs ' +
        'to compare new messages with: check the ids.',
    });
  }
  if (noText.length > 0) {
    warnings.push({
      code: 'no-text',
      contactIds: noText,
      message:
        'No text is kept for these contacts (calls, or messages past the retention period). The response is recorded, but repeat ' +
        'detection cannot compare new messages with them.',
    });
  }
  return warnings;
}
