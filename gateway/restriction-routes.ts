/**
 * The restriction lifecycle over HTTP (DESIGN.md §4): request → decide → approve, reject, review, vary,
 * lift, appeal, appeal outcome, one-off exceptions. Each handler loads the record, applies the pure rule
 * from rules/lifecycle.ts, saves it with optimistic concurrency and audits the step.
 */
import { Router, type Request, type Response } from 'express';
import { ulid } from 'ulid';
import {
  addException,
  approveRestriction,
  decideAppeal,
  decideRestriction,
  expireIfDue,
  isSameRequest,
  liftRestriction,
  recordAppeal,
  rejectRestriction,
  requestRestriction,
  reviewRestriction,
  transitionAuditDetails,
  varyRestriction,
  type DecideContext,
  type RequestInput,
} from '../rules/lifecycle';
import type { Category, Restriction, Role, Staff } from '../rules/types';
import type { VoiceRoute } from '../config/env';
import { dialsNamedStaff, isDiallable } from '../channels/voice/twiml';
import { requireRole } from './auth';
import { Forbidden, NotFound, ServiceUnavailable, Unprocessable } from './errors';
import { idFromIdempotencyKey, idempotencyKeyOf } from './idempotency';
import { ConflictError } from '../store/errors';
import type { ApiDeps } from './api-deps';
import {
  appealBody,
  appealOutcomeBody,
  approveBody,
  decideBody,
  exceptionBody,
  reasonBody,
  requestBody,
  reviewBody,
  statusQuery,
  varyBody,
} from './schemas';
import { parseBody, parseQuery } from './validate';

/** 422 for an `Idempotency-Key` sent again with another request. */
function keyReused(): Unprocessable {
  return new Unprocessable('idempotency-key-reused', 'This Idempotency-Key was used for a different request');
}

/** The audit's once-key of a restriction request: one record per restriction, however often it is retried. */
function requestAuditKey(id: string): string {
  return `restriction.request:${id}`;
}

/**
 * Something a step's answer tells the caseworker alongside its success (an optional `warnings` field): the
 * step is done, but it will not work as they may expect. Nothing is refused for it.
 */
export interface StepWarning {
  code: 'named-contact-unreachable' | 'exception-staff-unreachable';
  /** The members of staff it is about. */
  staffIds: string[];
  message: string;
}


const FIX = 'Add a phone or clientIdentity to their staff record (POST /v1/staff) for calls to reach them.';

function listed(ids: string[]): string {
  return ids.length <= 1 ? ids.join('') : `${ids.slice(0, -1).join(', ')} and ${ids.at(-1) ?? ''}`;
}

/**
 * The named contacts and deputies of `r`'s named-contact measures who cannot be dialled (no phone, no client
 * identity: channels/voice/twiml.ts `dialTarget`), as a warning — none when calls do not dial them (TaskRouter
 * finds a named contact as a worker by client identity or staff id). The single point of contact and
 * appointment holders are never dialled by the gate, so they are not looked at.
 */
export function namedContactWarnings(r: Restriction, staff: (id: string) => Staff | undefined, route: VoiceRoute | undefined): StepWarning[] {
  if (route !== undefined && !dialsNamedStaff(route)) return [];
  const contacts = new Set<string>();
  const deputies = new Set<string>();
  for (const m of r.measures) {
    if (m.type !== 'named-contact') continue;
    if (!isDiallable(staff(m.staffId))) contacts.add(m.staffId);
    if (m.deputyId !== undefined && !isDiallable(staff(m.deputyId))) deputies.add(m.deputyId);
  }
  if (contacts.size === 0 && deputies.size === 0) return [];
  const who = [...[...contacts].map((id) => `${id} (named contact)`), ...[...deputies].map((id) => `${id} (deputy)`)];
  // What the call flow does with the measure calls are routed by — the first named-contact measure, as
  // rules/decide takes it (channels/voice/twiml.ts renderDecision): a named contact it cannot dial is stood
  // in for by a deputy it can, then the named contact's voicemail; with no deputy to dial, the call goes to
  // the normal route. A deputy it cannot dial is skipped for the voicemail.
  const routing = r.measures.find((m) => m.type === 'named-contact');
  const contactDiallable = routing !== undefined && isDiallable(staff(routing.staffId));
  const deputyDiallable = routing?.deputyId !== undefined && isDiallable(staff(routing.deputyId));
  let consequence: string;
  if (!contactDiallable && !deputyDiallable) consequence = "so the customer's calls in their window go to the usual route instead, as any other caller's do";
  else if (!contactDiallable) consequence = "so the customer's calls in their window ring the deputy instead, then go to the named contact's voicemail";
  else if (routing?.deputyId !== undefined && !deputyDiallable) consequence = 'so a call the named contact does not answer goes to their voicemail instead of the deputy';
  else consequence = "though calls are routed by the restriction's first named contact, who can be dialled";
  return [
    {
      code: 'named-contact-unreachable',
      staffIds: [...new Set([...contacts, ...deputies])],
      message: `Calls cannot be put through to ${listed(who)}: no phone number or Twilio Client identity is on record, ${consequence}. ${FIX}`,
    },
  ];
}

/**
 * The warning for a one-off exception on the voice channel whose staff member (who arranged it, and whom its
 * calls are routed to) cannot be dialled; none for other channels or when calls do not dial them.
 */
export function exceptionWarnings(channel: string, staffId: string, staff: Staff | undefined, route: VoiceRoute | undefined): StepWarning[] {
  if (channel !== 'voice' || (route !== undefined && !dialsNamedStaff(route)) || isDiallable(staff)) return [];
  return [
    {
      code: 'exception-staff-unreachable',
      staffIds: [staffId],
      message: `Calls under this exception cannot be put through to ${staffId}: no phone number or Twilio Client identity is on record, so the customer's calls while it lasts go to the usual route instead, as any other caller's do. ${FIX}`,
    },
  ];
}

const ANY_STAFF: Role[] = ['agent', 'staff', 'manager', 'tenancy-specialist', 'ts-manager'];
const CASEWORKERS: Role[] = ['tenancy-specialist', 'ts-manager', 'manager'];

function actor(res: Response): Staff {
  return res.locals.staff as Staff;
}

function param(req: Request, name: string): string {
  const v = req.params[name];
  return typeof v === 'string' ? v : '';
}

/** Builds the router for /v1/restrictions. */
export function createRestrictionRouter(deps: ApiDeps): Router {
  const router = Router();
  const { store } = deps;
  const voiceRoute = deps.config.voiceDefaultRoute;

  async function load(id: string): Promise<Restriction> {
    const r = await store.restrictions.get(id);
    if (!r) throw new NotFound('restriction-not-found', `No restriction ${id}`);
    // Expiry is also swept by a scheduled job; applying it on read means no caller ever sees a stale status.
    const expired = expireIfDue(r, deps.now());
    if (expired) {
      await store.restrictions.save(expired, r.history.length);
      await deps.audit('system', 'restriction.expire', expired, transitionAuditDetails(expired.history.at(-1)));
      await deps.onTransition?.(r, expired, 'expire');
      return expired;
    }
    return r;
  }

  async function decideContext(r: Restriction, staff: Staff): Promise<DecideContext> {
    const customer = await store.customers.get(r.customerId);
    if (!customer) throw new NotFound('customer-not-found', `No customer ${r.customerId}`);
    const directory = await deps.staffDirectory();
    return {
      actor: staff,
      now: deps.now(),
      customer,
      staff: (sid: string) => directory.get(sid),
      maxReviewMonths: deps.config.reviewMaxMonths,
      timeZone: deps.config.timeZone,
    };
  }

  /** Saves a transition, audits it and tells the caller the new state (and any warnings about it). */
  async function commit(res: Response, before: Restriction, after: Restriction, action: string, status = 200, warnings: StepWarning[] = []): Promise<void> {
    await store.restrictions.save(after, before.history.length);
    await deps.audit(actor(res).id, `restriction.${action}`, after, transitionAuditDetails(after.history.at(-1)));
    await deps.onTransition?.(before, after, action);
    res.status(status).json({ id: after.id, status: after.status, restriction: after, ...(warnings.length > 0 ? { warnings } : {}) });
  }

  /** {@link namedContactWarnings} for a step that sets or approves the measures, over `staff` (or the staff directory). */
  async function measureWarnings(r: Restriction, staff?: (id: string) => Staff | undefined): Promise<StepWarning[]> {
    if (!r.measures.some((m) => m.type === 'named-contact')) return [];
    let lookup = staff;
    if (lookup === undefined) {
      const directory = await deps.staffDirectory();
      lookup = (id) => directory.get(id);
    }
    return namedContactWarnings(r, lookup, voiceRoute);
  }

  router.post('/', requireRole(...ANY_STAFF), async (req, res) => {
    const body = parseBody(requestBody, req.body);
    const idempotencyKey = idempotencyKeyOf(req);
    const staff = actor(res);
    const input: RequestInput = {
      customerId: body.customerId,
      category: body.category as Category,
      summary: body.summary,
      evidence: body.evidence,
      authorisedBy: body.authorisedBy,
      ...(body.warnings ? { warnings: body.warnings } : {}),
      ...(body.noWarningReason !== undefined ? { noWarningReason: body.noWarningReason } : {}),
    };
    // With an Idempotency-Key, every attempt of the request has the same id (gateway/idempotency.ts).
    const id = idempotencyKey === undefined ? `R${ulid()}` : idFromIdempotencyKey('R', staff.id, idempotencyKey);
    if (idempotencyKey !== undefined) {
      // A retry whose first attempt was stored is answered from it, before anything is validated again: it
      // was valid then, whatever has changed since (the authoriser's role, say).
      const earlier = await store.restrictions.get(id);
      if (earlier !== undefined) {
        await replayRequest(res, earlier, input, staff.id);
        return;
      }
    }
    const customer = await store.customers.get(body.customerId);
    if (!customer) throw new NotFound('customer-not-found', `No customer ${body.customerId}`);
    const authoriser = body.authorisedBy ? await store.staff.get(body.authorisedBy) : undefined;
    const r = requestRestriction(input, { id, actor: staff, now: deps.now(), timeZone: deps.config.timeZone, ...(authoriser ? { authoriser } : {}) });
    try {
      // Retry-safe: an attempt that stopped half-way is completed (its indexes written), a whole copy refused.
      await store.restrictions.create(r);
    } catch (error) {
      if (idempotencyKey === undefined || !(error instanceof ConflictError)) throw error;
      // Another attempt with this key stored it meanwhile (a retry racing the first attempt).
      const earlier = await store.restrictions.get(id);
      if (earlier === undefined) {
        // Claimed for another customer by an attempt that never stored it: this key was used for another request.
        const owner = await store.restrictions.ownerOf(id);
        if (owner !== undefined && owner !== r.customerId) throw keyReused();
        // Stored, yet not readable a moment later: a failover between the two reads. The client retries.
        throw new ServiceUnavailable('store-unavailable', 'The restriction store is unavailable; try again shortly', 5);
      }
      await replayRequest(res, earlier, input, staff.id);
      return;
    }
    await deps.audit(staff.id, 'restriction.request', r, transitionAuditDetails(r.history[0]), requestAuditKey(r.id));
    res.status(201).json({ id: r.id, status: r.status });
  });

  /**
   * Answers a retried request with the restriction its first attempt stored (its status now), or 422 when
   * the key was used for another request. Audits it if the attempt that stored it stopped before that.
   */
  async function replayRequest(res: Response, earlier: Restriction, input: RequestInput, staffId: string): Promise<void> {
    if (!isSameRequest(earlier, input, staffId)) throw keyReused();
    await deps.audit(earlier.requestedBy, 'restriction.request', earlier, transitionAuditDetails(earlier.history[0]), requestAuditKey(earlier.id));
    res.set('Idempotent-Replayed', 'true').status(201).json({ id: earlier.id, status: earlier.status });
  }

  router.get('/', requireRole(...CASEWORKERS), async (req, res) => {
    const { status } = parseQuery(statusQuery, req.query);
    const list = await store.restrictions.listByStatus(status);
    res.json({ restrictions: list });
  });

  // Caseworkers read any restriction; whoever requested one may follow it (they gave its evidence). Agents
  // see flags and terms only (GET /v1/customers/:id/flags), never a restriction's reasons or evidence.
  router.get('/:id', requireRole(...ANY_STAFF), async (req, res) => {
    const staff = actor(res);
    const id = param(req, 'id');
    if (!staff.roles.some((role) => CASEWORKERS.includes(role))) {
      // The same 403 whether the restriction is someone else's or does not exist: nothing is given away.
      const requested = await store.restrictions.get(id);
      if (requested?.requestedBy !== staff.id) {
        throw new Forbidden('forbidden-role', `This needs one of the roles: ${CASEWORKERS.join(', ')}, or to have requested the restriction`);
      }
    }
    res.json(await load(id));
  });

  router.post('/:id/decide', requireRole('tenancy-specialist'), async (req, res) => {
    const body = parseBody(decideBody, req.body);
    const r = await load(param(req, 'id'));
    const input = {
      measures: body.measures,
      ...(body.startsAt ? { startsAt: body.startsAt } : {}),
      reviewAt: body.reviewAt ?? '',
      ...(body.endsAt ? { endsAt: body.endsAt } : {}),
      singlePointOfContact: body.singlePointOfContact,
      ...(body.adjustments ? { adjustments: body.adjustments } : {}),
      ...(body.note !== undefined ? { note: body.note } : {}),
    };
    const ctx = await decideContext(r, actor(res));
    const after = decideRestriction(r, input, ctx);
    await commit(res, r, after, 'decide', 200, await measureWarnings(after, ctx.staff));
  });

  router.post('/:id/approve', requireRole('ts-manager'), async (req, res) => {
    const body = parseBody(approveBody, req.body);
    const r = await load(param(req, 'id'));
    const after = approveRestriction(r, { actor: actor(res), now: deps.now() }, body.note !== undefined ? { note: body.note } : {});
    await commit(res, r, after, 'approve', 200, await measureWarnings(after));
  });

  router.post('/:id/reject', requireRole('tenancy-specialist', 'ts-manager'), async (req, res) => {
    const body = parseBody(reasonBody, req.body);
    const r = await load(param(req, 'id'));
    await commit(res, r, rejectRestriction(r, body, { actor: actor(res), now: deps.now() }), 'reject');
  });

  router.post('/:id/review', requireRole('tenancy-specialist'), async (req, res) => {
    const body = parseBody(reviewBody, req.body);
    const r = await load(param(req, 'id'));
    const ctx = await decideContext(r, actor(res));
    const after = reviewRestriction(r, body, ctx);
    await commit(res, r, after, 'review', 200, body.outcome === 'vary' ? await measureWarnings(after, ctx.staff) : []);
  });

  router.post('/:id/vary', requireRole('tenancy-specialist'), async (req, res) => {
    const body = parseBody(varyBody, req.body);
    const r = await load(param(req, 'id'));
    const ctx = await decideContext(r, actor(res));
    const after = varyRestriction(r, body, ctx);
    await commit(res, r, after, 'vary', 200, await measureWarnings(after, ctx.staff));
  });

  router.post('/:id/lift', requireRole('tenancy-specialist'), async (req, res) => {
    const body = parseBody(reasonBody, req.body);
    const r = await load(param(req, 'id'));
    await commit(res, r, liftRestriction(r, body, { actor: actor(res), now: deps.now() }), 'lift');
  });

  router.post('/:id/appeal', requireRole('tenancy-specialist', 'ts-manager'), async (req, res) => {
    const body = parseBody(appealBody, req.body);
    const r = await load(param(req, 'id'));
    await commit(res, r, recordAppeal(r, body, { actor: actor(res), now: deps.now(), timeZone: deps.config.timeZone }), 'appeal');
  });

  router.post('/:id/appeal-outcome', requireRole('ts-manager'), async (req, res) => {
    const body = parseBody(appealOutcomeBody, req.body);
    const r = await load(param(req, 'id'));
    const ctx = await decideContext(r, actor(res));
    const after = decideAppeal(r, body, ctx);
    await commit(res, r, after, 'appeal-outcome', 200, body.outcome === 'varied' ? await measureWarnings(after, ctx.staff) : []);
  });

  router.post('/:id/exceptions', requireRole('tenancy-specialist'), async (req, res) => {
    const body = parseBody(exceptionBody, req.body);
    const r = await load(param(req, 'id'));
    const staff = actor(res);
    const id = `X${ulid()}`;
    const after = addException(r, body, { actor: staff, now: deps.now(), id });
    // Its calls are routed to the staff member the rule recorded on it: whoever arranged it (the actor).
    const staffId = after.exceptions.find((e) => e.id === id)?.staffId ?? staff.id;
    const arranged = staffId === staff.id ? staff : (await deps.staffDirectory()).get(staffId);
    await commit(res, r, after, 'exception', 201, exceptionWarnings(body.channel, staffId, arranged, voiceRoute));
  });

  return router;
}
