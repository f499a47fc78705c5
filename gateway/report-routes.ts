/**
 * The monthly compliance report (policy §9; DESIGN.md §4), for ts-managers:
 *
 * - `GET /v1/reports/monthly?month=YYYY-MM` — JSON, or CSV with `Accept: text/csv`; without `month`, the
 *   last complete month.
 * - `POST /v1/reports/monthly/:month/audits/:restrictionId` `{ outcome: 'compliant' | 'action-needed', note }`
 *   — records the audit of one sampled case, shown in the report from then on.
 *
 * The figures are computed by rules/monthly-report.ts from the restrictions' histories; this file only
 * gathers the records, attaches the recorded audits and renders CSV.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { monthPeriod, monthlyReport, type AuditSampleCase, type MonthlyReport, type ReportCase, type ReportContact } from '../rules/monthly-report';
import type { Restriction, Staff } from '../rules/types';
import type { Store } from '../store';
import type { ApiDeps } from './api-deps';
import { requireRole } from './auth';
import { Conflict, NotFound, Unprocessable } from './errors';
import type { AuditOutcomeRecord, ReportAuditStore } from './report-store';
import { parseBody, parseQuery } from './validate';

/** How many active cases are drawn for audit when not configured. */
export const DEFAULT_AUDIT_SAMPLE_SIZE = 5;

/** What {@link createReportRouter} needs. */
export interface ReportRouterDeps {
  store: Pick<Store, 'restrictions' | 'contacts'>;
  audits: ReportAuditStore;
  /** Bearer-token authentication (MountKit.auth). */
  authenticate: RequestHandler;
  timeZone: string;
  /** @default {@link DEFAULT_AUDIT_SAMPLE_SIZE} */
  sampleSize?: number;
  now: () => Date;
  /** Appends to the audit stream (ApiDeps.audit), when given. */
  audit?: ApiDeps['audit'];
}

/** A sampled case with the audit recorded for it, if any. */
export interface AuditedSampleCase extends AuditSampleCase {
  audit: Omit<AuditOutcomeRecord, 'restrictionId' | 'month'> | null;
}

/** The report as the API returns it: the pure report plus the recorded audits. */
export interface MonthlyReportResponse extends Omit<MonthlyReport, 'auditSample'> {
  auditSample: AuditedSampleCase[];
  /** How many sampled cases have an audit recorded. */
  audited: number;
}

const monthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM');
const reportQuery = z.object({ month: monthSchema.optional() });
const auditBody = z.object({
  outcome: z.enum(['compliant', 'action-needed']),
  note: z.string().trim().max(2000).optional().default(''),
});

function param(req: Request, name: string): string {
  const v = req.params[name];
  return typeof v === 'string' ? v : '';
}

/** The last complete local month before `now`, as `YYYY-MM`. */
export function previousMonth(now: Date, timeZone: string): string {
  return DateTime.fromJSDate(now, { zone: timeZone }).minus({ months: 1 }).toFormat('yyyy-MM');
}

/**
 * Breaches per restriction in the month, from the store's breach index (a sorted set per restriction,
 * scored by time): counted, not listed. Each counted breach is handed to the report dated at the month's
 * start, which is all the report uses the date for.
 */
async function breachesInMonth(store: ReportRouterDeps['store'], restrictions: Restriction[], start: Date, end: Date): Promise<ReportContact[]> {
  const everActive = restrictions.filter((r) => r.approvedAt !== undefined);
  const counts = await Promise.all(
    everActive.map(async (r) => {
      const [sinceStart, sinceEnd] = await Promise.all([
        store.contacts.breachCount(r.customerId, r.id, start.toISOString()),
        store.contacts.breachCount(r.customerId, r.id, end.toISOString()),
      ]);
      return { id: r.id, count: sinceStart - sinceEnd };
    }),
  );
  const receivedAt = start.toISOString();
  return counts.flatMap(({ id, count }) => Array.from({ length: Math.max(0, count) }, () => ({ restrictionId: id, breach: true, receivedAt })));
}

/**
 * Builds the month's report with the recorded audits.
 * @throws RuleError `invalid-month` (422) for a malformed month.
 */
export async function buildMonthlyReport(deps: Omit<ReportRouterDeps, 'authenticate'>, month: string): Promise<MonthlyReportResponse> {
  const { start, end } = monthPeriod(month, deps.timeZone);
  const restrictions = await deps.store.restrictions.listByStatus();
  const [contacts, audits] = await Promise.all([breachesInMonth(deps.store, restrictions, start, end), deps.audits.list(month)]);
  const report = monthlyReport({
    month,
    restrictions,
    contacts,
    sampleSize: deps.sampleSize ?? DEFAULT_AUDIT_SAMPLE_SIZE,
    timeZone: deps.timeZone,
    now: deps.now(),
  });
  const auditSample = report.auditSample.map((c): AuditedSampleCase => {
    const found = audits.get(c.restrictionId);
    return { ...c, audit: found ? { outcome: found.outcome, note: found.note, by: found.by, at: found.at } : null };
  });
  return { ...report, auditSample, audited: auditSample.filter((c) => c.audit !== null).length };
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled. Text that a
 * spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) is prefixed with `'` (OWASP CSV
 * injection); numbers are written as they are.
 */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A case-list row's detail for the CSV: who, why (category), what (measures), and its review and month. */
function caseDetail(c: ReportCase, timeZone: string): string {
  // The local day, as the month itself is read: a review at 00:30 BST on 1 July is July's.
  const day = (iso: string) => DateTime.fromISO(iso, { zone: timeZone }).toISODate() ?? iso;
  const review = c.reviewDueAt === undefined ? undefined : `review due ${day(c.reviewDueAt)}${c.reviewOverdue ? ' (overdue)' : ''}`;
  return [
    c.customerId,
    c.category,
    c.measures.join(' '),
    review,
    c.lastReviewAt === undefined ? undefined : `last review ${day(c.lastReviewAt)}`,
    c.appealOpen ? 'appeal open' : undefined,
    `breaches ${c.breaches}`,
    c.events.length > 0 ? `in the month: ${c.events.join(' ')}` : undefined,
  ]
    .filter((s): s is string => s !== undefined && s !== '')
    .join(' | ');
}

/**
 * The report as CSV, one figure per row: `section,item,value,detail`. The audit sample follows, one case
 * per row, with its audit outcome (or `pending`) and the note; then the case list, one case per row
 * (section `case`, the restriction, its status at month end, and the rest in the detail). Lines end with
 * CRLF as RFC 4180 says.
 */
export function reportToCsv(report: MonthlyReportResponse): string {
  const rows: Array<Array<string | number | null | undefined>> = [['section', 'item', 'value', 'detail']];
  rows.push(['report', 'month', report.month, report.complete ? 'complete' : `in progress as of ${report.asOf}`]);
  rows.push(['report', 'time zone', report.timeZone, null]);
  for (const [item, value] of Object.entries(report.restrictions)) rows.push(['restrictions', item, value, null]);
  for (const [category, counts] of Object.entries(report.byCategory)) {
    rows.push(['category active', category, counts.active, null]);
    rows.push(['category new', category, counts.new, null]);
  }
  for (const [measure, count] of Object.entries(report.byMeasure)) rows.push(['measure', measure, count, null]);
  for (const [item, value] of Object.entries(report.reviews)) rows.push(['reviews', item, value, null]);
  for (const [item, value] of Object.entries(report.appeals)) rows.push(['appeals', item, value, null]);
  for (const [item, value] of Object.entries(report.breaches)) rows.push(['breaches', item, value, null]);
  for (const c of report.auditSample) {
    const detail = [c.customerId, c.category, c.measures.join(' '), c.audit?.note].filter((s) => s !== undefined && s !== '').join(' | ');
    rows.push(['audit sample', c.restrictionId, c.audit?.outcome ?? 'pending', detail]);
  }
  for (const c of report.cases) rows.push(['case', c.restrictionId, c.status, caseDetail(c, report.timeZone)]);
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** Builds the router for /v1/reports. */
export function createReportRouter(deps: ReportRouterDeps): Router {
  const router = Router();
  router.use(deps.authenticate, requireRole('ts-manager'));

  router.get('/monthly', async (req: Request, res: Response) => {
    const { month } = parseQuery(reportQuery, req.query);
    const report = await buildMonthlyReport(deps, month ?? previousMonth(deps.now(), deps.timeZone));
    res.vary('Accept');
    if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
      res
        .type('text/csv; charset=utf-8')
        .set('Content-Disposition', `attachment; filename="gatekeeper-monthly-${report.month}.csv"`)
        .send(reportToCsv(report));
      return;
    }
    res.json(report);
  });

  router.post('/monthly/:month/audits/:restrictionId', async (req: Request, res: Response) => {
    const month = param(req, 'month');
    if (!monthSchema.safeParse(month).success) throw new Unprocessable('invalid-month', `month must be YYYY-MM, not "${month}"`);
    const restrictionId = param(req, 'restrictionId');
    const body = parseBody(auditBody, req.body);
    if (body.outcome === 'action-needed' && body.note === '') {
      throw new Unprocessable('no-note', 'Say what action is needed (note)');
    }
    const report = await buildMonthlyReport(deps, month);
    if (!report.complete) throw new Conflict('month-not-ended', 'The sample is drawn once the month has ended');
    if (!report.auditSample.some((c) => c.restrictionId === restrictionId)) {
      throw new NotFound('not-in-sample', `Restriction ${restrictionId} is not in the audit sample for ${month}`);
    }
    const staff = res.locals.staff as Staff;
    const record: AuditOutcomeRecord = { restrictionId, month, outcome: body.outcome, note: body.note, by: staff.id, at: deps.now().toISOString() };
    await deps.audits.record(record);
    await deps.audit?.(staff.id, 'report.audit', { id: restrictionId }, { month, outcome: body.outcome });
    res.status(201).json(record);
  });

  return router;
}
