/**
 * The few facts about the caller's snapshot that TwiML needs beyond the decision: how to reach the person
 * the call is routed to, the named contact's deputy, and the restriction's review date. Reading, not
 * deciding: `rules/decide` chose `routeTo`; this only looks the people up.
 */
import type { Decision, Identification, StaffRef } from '../../rules/types';
import type { CallContext } from './twiml';

/**
 * Builds the {@link CallContext} of a decision.
 * The deputy applies only when the call goes to the named contact of a named-contact measure; a one-off
 * exception routes to the member of staff who arranged it, who has no deputy.
 */
export function callContext(decision: Decision, identification: Identification): CallContext {
  if (identification.kind !== 'resolved') return {};
  const { snapshot } = identification;
  const context: CallContext = {};
  const restriction = snapshot.restrictions.find((r) => r.id === decision.restrictionId);
  if (restriction?.reviewAt !== undefined) context.reviewAt = restriction.reviewAt;

  const routeTo = decision.routeTo;
  if (routeTo === undefined) return context;
  const staff: StaffRef | undefined = snapshot.staff[routeTo];
  if (staff !== undefined) context.routeTo = staff;
  if (decision.exceptionId !== undefined) return context;

  for (const r of snapshot.restrictions) {
    for (const m of r.measures) {
      if (m.type === 'named-contact' && m.staffId === routeTo && m.deputyId !== undefined) {
        const deputy = snapshot.staff[m.deputyId];
        if (deputy !== undefined) context.deputy = deputy;
        return context;
      }
    }
  }
  return context;
}
