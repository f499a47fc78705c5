/**
 * Staff records and their API tokens (admin only). A token is shown once and stored only as a hash.
 */
import { Router, type Request } from 'express';
import type { Staff } from '../rules/types';
import { normaliseEmail, normalisePhone } from '../store/identity';
import { requireRole } from './auth';
import type { ApiDeps } from './api-deps';
import { NotFound, Unprocessable } from './errors';
import { staffBody } from './schemas';
import { parseBody } from './validate';

function param(req: Request, name: string): string {
  const v = req.params[name];
  return typeof v === 'string' ? v : '';
}

/** Builds the router for /v1/staff. */
export function createStaffRouter(deps: ApiDeps): Router {
  const router = Router();
  const { store } = deps;

  router.post('/', requireRole('admin'), async (req, res) => {
    const body = parseBody(staffBody, req.body);
    let phone: string | undefined;
    if (body.phone) {
      phone = normalisePhone(body.phone);
      if (!phone) throw new Unprocessable('invalid-phone', 'phone is not a valid phone number');
    }
    const email = normaliseEmail(body.email);
    if (!email) throw new Unprocessable('invalid-email', 'email is not a valid email address');
    const staff: Staff = {
      id: body.id,
      name: body.name,
      email,
      ...(phone ? { phone } : {}),
      ...(body.clientIdentity ? { clientIdentity: body.clientIdentity } : {}),
      roles: [...new Set(body.roles)],
    };
    const existed = (await store.staff.get(staff.id)) !== undefined;
    await store.staff.put(staff);
    await deps.audit((res.locals.staff as Staff).id, existed ? 'staff.update' : 'staff.create', { id: staff.id });
    res.status(existed ? 200 : 201).json(staff);
  });

  router.get('/', requireRole('admin', 'tenancy-specialist', 'ts-manager', 'manager'), async (_req, res) => {
    res.json(await store.staff.list());
  });

  router.post('/:id/tokens', requireRole('admin'), async (req, res) => {
    const id = param(req, 'id');
    if (!(await store.staff.get(id))) throw new NotFound('staff-not-found', `No staff ${id}`);
    const { token, tokenId } = await store.staff.issueToken(id);
    await deps.audit((res.locals.staff as Staff).id, 'token.issue', { id }, { tokenId });
    res.status(201).json({ token, tokenId });
  });

  router.delete('/:id/tokens/:tokenId', requireRole('admin'), async (req, res) => {
    const tokenId = param(req, 'tokenId');
    await store.staff.revokeToken(tokenId);
    await deps.audit((res.locals.staff as Staff).id, 'token.revoke', { id: param(req, 'id') }, { tokenId });
    res.status(204).end();
  });

  return router;
}
