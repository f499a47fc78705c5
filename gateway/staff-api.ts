/**
 * The staff API under /v1 (DESIGN.md §4): bearer-token authentication, then one router per resource.
 */
import { Router, type RequestHandler } from 'express';
import type { ApiDeps } from './api-deps';
import { createCustomerRouter } from './customer-routes';
import { createDecisionRouter } from './decision-routes';
import { createRestrictionRouter } from './restriction-routes';
import { createStaffRouter } from './staff-routes';

/** Mounts every staff endpoint behind `authenticate` (gateway/auth.ts bearerAuth). */
export function createStaffApi(deps: ApiDeps, authenticate: RequestHandler): Router {
  const api = Router();
  api.use(authenticate);
  api.use('/staff', createStaffRouter(deps));
  api.use('/customers', createCustomerRouter(deps));
  api.use('/restrictions', createRestrictionRouter(deps));
  api.use('/decisions', createDecisionRouter(deps));
  return api;
}
