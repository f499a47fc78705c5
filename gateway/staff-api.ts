/**
 * The staff API under /v1 (DESIGN.md §4): bearer-token authentication, then one router per resource.
 */
import { Router, type RequestHandler } from 'express';
import type { ApiDeps } from './api-deps';
import { createCustomerRouter } from './customer-routes';
import { createDecisionRouter } from './decision-routes';
import { confirmWritesBeforeAnswering } from './durable-writes';
import { createRestrictionRouter } from './restriction-routes';
import { createStaffRouter } from './staff-routes';

/**
 * Mounts every staff endpoint behind `authenticate` (gateway/auth.ts bearerAuth). Changes to staff,
 * customers and restrictions are answered only once confirmed durable (durable-writes.ts); decisions
 * write nothing.
 */
export function createStaffApi(deps: ApiDeps, authenticate: RequestHandler, authenticateDuringOutage: RequestHandler = authenticate): Router {
  const api = Router();
  // Ahead of the general authentication: decisions change nothing and must answer emergencies during a Redis
  // outage, so they alone accept a token this gateway verified before the outage (gateway/verified-tokens.ts).
  api.use('/decisions', authenticateDuringOutage, createDecisionRouter(deps));
  api.use(authenticate);
  const durable = confirmWritesBeforeAnswering(deps.store.writes);
  api.use('/staff', durable, createStaffRouter(deps));
  api.use('/customers', durable, createCustomerRouter(deps));
  api.use('/restrictions', durable, createRestrictionRouter(deps));
  return api;
}
