/**
 * Builds the GateSnapshot of one customer: everything the gate needs to decide a contact, and nothing it
 * must not show (no reason, no evidence, no summary). Pure; the snapshot writer feeds it what it read.
 */
import { toEnforced } from '../rules/lifecycle';
import type { Customer, EnforcedRestriction, GateSnapshot, Restriction, Staff, StaffRef } from '../rules/types';

/** The enforceable part of a restriction (no reason or evidence): the rules' own definition. */
export const toEnforcedRestriction: (r: Restriction) => EnforcedRestriction = toEnforced;

/** Every staff id a restriction names: named contacts and deputies, appointment holders, exceptions, SPOC. */
export function staffIdsNamedIn(restrictions: readonly EnforcedRestriction[]): string[] {
  const ids = new Set<string>();
  for (const r of restrictions) {
    if (r.singlePointOfContact) ids.add(r.singlePointOfContact);
    for (const m of r.measures) {
      if (m.type === 'named-contact') {
        ids.add(m.staffId);
        if (m.deputyId) ids.add(m.deputyId);
      } else if (m.type === 'appointments-only') {
        ids.add(m.staffId);
      }
    }
    for (const e of r.exceptions) ids.add(e.staffId);
  }
  return [...ids].sort();
}

/** What agents and the router need of a member of staff; never their roles. */
export function toStaffRef(staff: Staff): StaffRef {
  const ref: StaffRef = { id: staff.id, name: staff.name, email: staff.email };
  if (staff.phone !== undefined) ref.phone = staff.phone;
  if (staff.clientIdentity !== undefined) ref.clientIdentity = staff.clientIdentity;
  return ref;
}

/**
 * The snapshot of `customer`: only `active` restrictions (whether one is in force *now* — startsAt,
 * endsAt — is for the rules to decide at the moment of the contact), and a StaffRef for each staff
 * member they name. Staff who no longer exist are left out of `staff`; the rules treat a missing ref as
 * "route normally".
 */
export function buildGateSnapshot(
  customer: Customer,
  restrictions: readonly Restriction[],
  staff: ReadonlyMap<string, Staff>,
): GateSnapshot {
  const enforced = restrictions
    .filter((r) => r.status === 'active')
    .map(toEnforcedRestriction)
    .sort((a, b) => a.id.localeCompare(b.id));
  const refs: Record<string, StaffRef> = {};
  for (const id of staffIdsNamedIn(enforced)) {
    const member = staff.get(id);
    if (member) refs[id] = toStaffRef(member);
  }
  return { customerId: customer.id, name: customer.name, needs: customer.needs, restrictions: enforced, staff: refs };
}
