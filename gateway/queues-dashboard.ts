/**
 * The BullMQ dashboard (bull-board) at `/admin/queues`, for admins only (DESIGN.md §4): queue depths,
 * failed jobs with their errors, retrying them, and the job schedulers. Job data shows ids only — the queues
 * never carry message bodies or addresses.
 *
 * Content-Security-Policy: the gateway's policy is strict (no inline styles or scripts; helmet in app.ts).
 * bull-board's page is a prebuilt React app whose HTML carries inline `style` attributes and a `<style>`
 * element, and whose components set inline styles at run time, which `style-src 'self'` blocks (the page
 * renders unstyled and partly unusable). So, for this path only, the policy adds `'unsafe-inline'` to
 * `style-src`. Scripts stay `'self'`: the bundle is served from this path, runs no inline script (its one
 * inline `<script>` is `type="application/json"` data, which CSP does not treat as script) and no `eval`.
 * The page also links IBM Plex from Google Fonts; that stays blocked (admins' addresses are not sent to a
 * third party) and the page falls back to the system sans-serif. Inline styles are a far smaller risk than
 * inline scripts (no script execution), and the path is behind admin authentication.
 *
 * Authentication is the gateway's own (`auth` + `requireRole('admin')`), applied to the page, its static
 * files and its API alike. With bearer tokens only, a browser cannot open the page by navigation; it needs
 * the console's session (same-origin cookie) auth, or a proxy that adds the header.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Express, RequestHandler } from 'express';
import helmet from 'helmet';
import type { requireRole as RequireRole } from './auth';

/** Where the dashboard is mounted (DESIGN.md §4). */
export const QUEUES_DASHBOARD_PATH = '/admin/queues';

/**
 * The server-adapter type createBullBoard expects. @bull-board/express 9.10.1 pins its own copy of
 * @bull-board/api 9.10.1, so its ExpressAdapter's types name that copy's classes, while the board is built
 * by the top-level @bull-board/api 9.10.2 (which also picks the matching @bull-board/ui 9.10.2). The adapter
 * is only the HTTP plumbing and its interface is the same in both; the cast bridges the duplicate
 * declarations until @bull-board/express 9.10.2 is published.
 */
type BoardServerAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];

/** Options of {@link mountQueuesDashboard}. */
export interface QueuesDashboardOptions {
  /** The queues to show (each worker module's queues: process-message, notifications, lifecycle, …). */
  queues: readonly Queue[];
  /** The gateway's authentication middleware (MountKit.auth). */
  auth: RequestHandler;
  /** MountKit.requireRole. */
  requireRole: typeof RequireRole;
  /** Show the queues without retry, clean or remove buttons. @default false */
  readOnly?: boolean;
  /** @default {@link QUEUES_DASHBOARD_PATH} */
  basePath?: string;
}

/**
 * The CSP of the dashboard's responses: the gateway's, with inline styles allowed (see the file comment).
 * It replaces the header helmet set earlier in the chain, for this path only.
 */
export const dashboardCsp: RequestHandler = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
});

/**
 * Mounts bull-board at `/admin/queues` behind admin authentication.
 * @param app the gateway app (call from `createApp`'s `mount`, so the 404 and error handlers come after)
 */
export function mountQueuesDashboard(app: Express, options: QueuesDashboardOptions): void {
  const basePath = options.basePath ?? QUEUES_DASHBOARD_PATH;
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: options.queues.map((q) => new BullMQAdapter(q, { readOnlyMode: options.readOnly ?? false })),
    serverAdapter: serverAdapter as unknown as BoardServerAdapter,
    options: { uiConfig: { boardTitle: 'Gatekeeper queues', hideDocsLink: true } },
  });
  // bull-board's router is typed `any` by its package; it is an express Router.
  const router = serverAdapter.getRouter() as RequestHandler;
  app.use(basePath, dashboardCsp, options.auth, options.requireRole('admin'), router);
}
