/**
 * Monthly compliance (policy §9): on the first working day of each month the previous month's report goes
 * to every ts-manager — the figures in the body (HTML, with a plain-text alternative) and the CSV attached,
 * the same report and CSV as `GET /v1/reports/monthly`.
 *
 * The scheduler runs daily at 07:00 local time and asks {@link runComplianceCheck} whether the report is
 * due: from the first working day of the month on, until it has been sent, so a worker that was down on
 * that morning sends it on the next run instead of skipping a month.
 */
import { DateTime } from 'luxon';
import { firstWorkingDayOfMonth } from '../rules/working-days';
import type { LifecycleDeps, MonthlyReportDocument, StaffMessage } from './lifecycle-deps';
import { enqueueNotice, type StaffNotice } from './lifecycle-queues';
import { addressesOf, staffDirectory, tsManagers } from './review-scheduler';

/** What a compliance check found. */
export interface ComplianceCheck {
  /** Whether the previous month's report is due (today is on or after the month's first working day). */
  due: boolean;
  /** The month reported, when due. */
  month?: string;
  /** Whether the report was queued now (false: it was sent already, or it is not due). */
  queued: boolean;
}

/** The notice id of a month's report. */
export function monthlyReportNoticeId(month: string): string {
  return `monthly-report.${month}`;
}

/**
 * Queues the previous month's report when today (local) is the first working day of the month or later and
 * the report has not been sent.
 */
export async function runComplianceCheck(deps: Pick<LifecycleDeps, 'queues' | 'notices' | 'settings' | 'logger'>, now: Date): Promise<ComplianceCheck> {
  const local = DateTime.fromJSDate(now, { zone: deps.settings.timeZone });
  const today = local.toISODate() ?? '';
  if (today < firstWorkingDayOfMonth(local.year, local.month)) return { due: false, queued: false };
  const month = local.minus({ months: 1 }).toFormat('yyyy-MM');
  const notice: StaffNotice = { kind: 'monthly-report', noticeId: monthlyReportNoticeId(month), month };
  if (await deps.notices.wasSent(notice.noticeId)) return { due: true, month, queued: false };
  await enqueueNotice(deps.queues, notice);
  deps.logger.info('monthly compliance report queued', { month });
  return { due: true, month, queued: true };
}

function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** "June 2026" for `2026-06`. */
function monthName(month: string): string {
  return DateTime.fromFormat(month, 'yyyy-MM', { locale: 'en-GB' }).toFormat('LLLL yyyy');
}

/** "excessive-contact" → "Excessive contact"; "reviews.overdue" style keys become readable labels. */
function label(key: string): string {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/-/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

type Section = { title: string; rows: Array<[string, string | number]> };

function sections(doc: MonthlyReportDocument): Section[] {
  const r = doc.report;
  return [
    { title: 'Restrictions', rows: Object.entries(r.restrictions).map(([k, v]) => [label(k), v]) },
    { title: 'Reviews', rows: Object.entries(r.reviews).map(([k, v]) => [label(k), v]) },
    { title: 'Appeals', rows: Object.entries(r.appeals).map(([k, v]) => [label(k), v]) },
    { title: 'Breaches', rows: [['Contacts that breached a restriction', r.breaches.total], ['Restrictions breached', r.breaches.restrictions]] },
    { title: 'By category (active / new)', rows: Object.entries(r.byCategory).map(([k, v]) => [label(k), `${v.active} / ${v.new}`]) },
    { title: 'By measure (active)', rows: Object.entries(r.byMeasure).map(([k, v]) => [label(k), v]) },
    {
      title: `Audit sample (${r.auditSample.length} of ${r.sampleSize} asked)`,
      rows: r.auditSample.map((c) => [`${c.restrictionId} — ${c.customerId}, ${label(c.category)}`, c.audit?.outcome ?? 'to audit']),
    },
  ];
}

/** The report's body as plain text. */
export function reportText(doc: MonthlyReportDocument, consoleUrl: string): string {
  const r = doc.report;
  const intro = `Gatekeeper's restricted-access compliance report for ${monthName(r.month)} (${r.timeZone}). The full figures are attached as CSV.`;
  const body = sections(doc).map((s) => [s.title, ...s.rows.map(([k, v]) => `  ${k}: ${v}`)].join('\n'));
  const outro = `Please audit the sampled cases and record each outcome on the monthly report page of the console: ${consoleUrl}`;
  return [intro, ...body, outro].join('\n\n');
}

/** The report's body as HTML: one small table per section, every value escaped. */
export function reportHtml(doc: MonthlyReportDocument, consoleUrl: string): string {
  const r = doc.report;
  const tables = sections(doc)
    .map(
      (s) =>
        `<h2 style="font-size:1.1em">${escapeHtml(s.title)}</h2>\n<table style="border-collapse:collapse">\n` +
        s.rows
          .map(([k, v]) => `<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0;font-weight:normal">${escapeHtml(k)}</th><td style="text-align:right">${escapeHtml(v)}</td></tr>`)
          .join('\n') +
        '\n</table>',
    )
    .join('\n');
  return [
    '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">',
    `<title>Compliance report ${escapeHtml(r.month)}</title></head><body style="font-family:sans-serif">`,
    `<h1 style="font-size:1.3em">Restricted access: compliance report for ${escapeHtml(monthName(r.month))}</h1>`,
    `<p>Figures for the month in ${escapeHtml(r.timeZone)} time. The full report is attached as CSV.</p>`,
    tables,
    `<p>Please audit the sampled cases and record each outcome on the <a href="${escapeHtml(consoleUrl)}">monthly report page of the console</a>.</p>`,
    '</body></html>',
  ].join('\n');
}

/** The month's report to every ts-manager. */
export async function composeMonthlyReportEmail(
  deps: Pick<LifecycleDeps, 'store' | 'settings' | 'monthlyReport'>,
  notice: Extract<StaffNotice, { kind: 'monthly-report' }>,
): Promise<StaffMessage> {
  const to = addressesOf(tsManagers(await staffDirectory(deps)), 'monthly compliance report');
  const doc = await deps.monthlyReport(notice.month);
  const consoleUrl = `${deps.settings.publicUrl}/console`;
  return {
    to,
    subject: `Restricted access compliance report: ${monthName(notice.month)}`,
    text: reportText(doc, consoleUrl),
    html: reportHtml(doc, consoleUrl),
    attachments: [{ filename: `gatekeeper-monthly-${notice.month}.csv`, contentType: 'text/csv; charset=utf-8', content: Buffer.from(doc.csv, 'utf8') }],
  };
}
