/**
 * `POST /v1/decisions`: "what would happen if this contact arrived at `at`?" — the same store lookup and
 * the same pure decision as the channels, with no side effects (nothing recorded, nothing published).
 */
import { Router } from 'express';
import { decide } from '../rules/decide';
import type { Contact, Identification, Role } from '../rules/types';
import { requireRole } from './auth';
import type { ApiDeps } from './api-deps';
import { decisionBody } from './schemas';
import { parseBody } from './validate';

const ANY_STAFF: Role[] = ['agent', 'staff', 'manager', 'tenancy-specialist', 'ts-manager', 'admin'];

/** Builds the router for /v1/decisions. */
export function createDecisionRouter(deps: ApiDeps): Router {
  const router = Router();

  router.post('/', requireRole(...ANY_STAFF), async (req, res) => {
    const body = parseBody(decisionBody, req.body);
    const at = body.at ? new Date(body.at) : deps.now();
    const contact: Contact = {
      channel: body.channel,
      ...(body.from !== undefined ? { from: body.from } : {}),
      ...(body.customerId ? { customerId: body.customerId } : {}),
      ...(body.text !== undefined ? { text: body.text } : {}),
      ...(body.subject !== undefined ? { subject: body.subject } : {}),
      ...(body.emergency !== undefined ? { emergency: body.emergency } : {}),
      ...(body.words !== undefined ? { words: body.words } : {}),
    };
    const identification = await identify(deps, contact);
    res.json(decide(contact, identification, at, deps.settings));
  });

  return router;
}

/** Resolves who a contact is from; a store that cannot answer in time becomes `unavailable`, never an error. */
async function identify(deps: ApiDeps, contact: Contact): Promise<Identification> {
  const key = contact.customerId
    ? { customerId: contact.customerId }
    : contact.channel === 'voice' || contact.channel === 'visit'
      ? { phone: contact.from ?? '' }
      : { email: contact.from ?? '' };
  const written = contact.channel === 'email' || contact.channel === 'letter';
  return deps.store.gate.resolveOrUnavailable(key, { responded: written });
}
