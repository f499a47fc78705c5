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
export function createStaffApi(deps: ApiDeps, authenticate: RequestHandler): Router {
  const api = Router();
  api.use(authenticate);
  const durable = confirmWritesBeforeAnswering(deps.store.writes);
  api.use('/staff', durable, createStaffRouter(deps));
  api.use('/customers', durable, createCustomerRouter(deps));
  api.use('/restrictions', durable, createRestrictionRouter(deps));
  api.use('/decisions', createDecisionRouter(deps));
  return api;
}
