/**
 * The agent console (DESIGN.md §4 `GET /console`): three static files — `index.html`, `app.js`, `app.css` in
 * `gateway/public/` — and one small endpoint the page needs to know who signed in.
 *
 * The page holds no secret of its own: the member of staff pastes their token, the page keeps it in
 * sessionStorage and sends it as `Authorization: Bearer …` to the staff API and to `/v1/events`. It works
 * under the app's strict Content-Security-Policy (`default-src 'self'`): no inline script or style, no eval.
 *
 * - `GET /console` (and `/console/`) — the page.
 * - `GET /console/app.js`, `/console/app.css` — its script and styles.
 * - `GET /console/me` (bearer) — `{ id, name, roles, timeZone, now }`: who signed in, and the server's zone and
 *   clock, by which the page judges dates ("overdue", "next Friday") whatever the PC's clock says.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import type { Staff } from '../rules/types';

/** What {@link createConsoleRouter} needs. */
export interface ConsoleRouterDeps {
  /** Bearer-token authentication (MountKit.auth), for `/console/me`. */
  authenticate: RequestHandler;
  /** The organisation's zone: the console shows dates and times in it, whatever the browser's zone. */
  timeZone: string;
  /** The server clock. @default real time */
  now?: () => Date;
  /** Where the static files are. @default gateway/public, found from source or from the built `dist/` */
  publicDir?: string;
}

/**
 * Finds `gateway/public`: next to this file when run from source (ts-node, Jest); from `dist/gateway/`
 * the build does not copy static files, so the source folder two levels up is used.
 */
export function defaultPublicDir(): string {
  const candidates = [join(__dirname, 'public'), resolve(__dirname, '..', '..', 'gateway', 'public')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? (candidates[0] as string);
}

/** Builds the router; mount it at `/console`. */
export function createConsoleRouter(deps: ConsoleRouterDeps): Router {
  const dir = deps.publicDir ?? defaultPublicDir();
  const router = Router();
  const now = deps.now ?? (() => new Date());

  const page: RequestHandler = (_req, res) => {
    // Always fetch the page afresh: it names the script and styles, which may change with a release.
    res.set('Cache-Control', 'no-store').sendFile(join(dir, 'index.html'));
  };
  router.get('/', page);

  router.get('/me', deps.authenticate, (_req, res) => {
    const staff = res.locals.staff as Staff;
    res.set('Cache-Control', 'no-store').json({ id: staff.id, name: staff.name, roles: staff.roles, timeZone: deps.timeZone, now: now().toISOString() });
  });

  router.use(
    express.static(dir, {
      index: false,
      dotfiles: 'ignore',
      fallthrough: true,
      // Short: no fingerprinted file names, so a release must reach agents within minutes.
      maxAge: '5m',
    }),
  );
  return router;
}
