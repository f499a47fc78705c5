/**
 * Agents are told "Under appeal" only while an appeal awaits its outcome: the restriction keeps
 * `appealed` and the appeal's record once it is decided, but what the gate enforces and agents see
 * (`toEnforced`) says whether one is open.
 */
import { restrictionFlags } from '../../rules/agent-flags';
import { decideAppeal, isAppealOpen, recordAppeal, toEnforced, type DecideContext } from '../../rules/lifecycle';
import type { Restriction, Staff } from '../../rules/types';

const UNDER_APPEAL = 'Under appeal — the restriction still applies';
const now = new Date('2026-11-25T10:00:00Z');
const tess: Staff = { id: 'tess', name: 'Tess Specialist', email: 'tess@x.org', roles: ['tenancy-specialist'] };
const tara: Staff = { id: 'tara', name: 'Tara TS-Manager', email: 'tara@x.org', roles: ['ts-manager'] };

const active: Restriction = {
  id: 'R1',
  customerId: 'C123',
  status: 'active',
  category: 'excessive-contact',
  summary: '212 calls in October',
  evidence: [{ type: 'call-log', reference: 'LOG-1' }],
  authorisedBy: 'mia',
  warnings: [{ type: 'formal', date: '2026-10-01' }],
  requestedBy: 'sam',
  requestedAt: '2026-11-01T10:00:00Z',
  decidedBy: 'tess',
  decidedAt: '2026-11-02T10:00:00Z',
  approvedBy: 'tom',
  approvedAt: '2026-11-03T10:00:00Z',
  measures: [{ type: 'written-only', channels: ['letter', 'email'] }],
  startsAt: '2026-11-03T10:00:00Z',
  reviewAt: '2027-02-01T10:00:00Z',
  adjustments: [],
  exceptions: [],
  appealed: false,
  reviews: [],
  history: [],
};

const ctx: DecideContext = {
  actor: tara,
  now,
  customer: { id: 'C123', name: 'Pat', phones: [], emails: [], needs: [] },
  staff: () => undefined,
  maxReviewMonths: 6,
  timeZone: 'Europe/London',
};

const flagsOf = (r: Restriction): string[] => restrictionFlags([toEnforced(r)], {}, now, 'Europe/London');

describe('the "under appeal" flag', () => {
  const appealed = recordAppeal(active, { grounds: 'I need to phone about repairs' }, { actor: tess, now });

  it('is shown while the appeal awaits its outcome', () => {
    expect(flagsOf(active)).not.toContain(UNDER_APPEAL);
    expect(isAppealOpen(appealed)).toBe(true);
    expect(flagsOf(appealed)).toContain(UNDER_APPEAL);
  });

  it.each(['dismissed', 'varied'] as const)('is gone once the appeal is %s (the restriction still applies, and keeps its appeal record)', (outcome) => {
    const decided = decideAppeal(
      appealed,
      outcome === 'varied' ? { outcome, note: 'calls on Tuesdays instead', measures: [{ type: 'call-times', windows: [{ days: ['tue'], start: '10:00', end: '12:00' }] }] } : { outcome, note: 'still needed' },
      ctx,
    );
    expect(decided.status).toBe('active');
    expect(decided.appealed).toBe(true);
    expect(decided.appeal).toMatchObject({ outcome });
    expect(isAppealOpen(decided)).toBe(false);
    expect(toEnforced(decided).appealed).toBe(false);
    expect(flagsOf(decided)).not.toContain(UNDER_APPEAL);
    // Appealed again: open again.
    const again = recordAppeal(decided, { grounds: 'new grounds' }, { actor: tess, now });
    expect(flagsOf(again)).toContain(UNDER_APPEAL);
  });
});
