/**
 * The daily sweep, driven by the `now` it is given (as its BullMQ job does with the time it runs): expiry,
 * review reminders 14 days before and on the day, daily escalation of overdue reviews; and the job
 * schedulers registered idempotently.
 */
import { QueueEvents } from 'bullmq';
import request from 'supertest';
import { runDailySweep } from '../../workers/review-scheduler';
import { DEFAULT_SCHEDULE, registerLifecycleSchedulers, SCHEDULED_JOBS } from '../../workers/lifecycle-queues';
import { QUEUE_PREFIX } from '../../workers/queue-prefix';
import { createWorkerConnection, closeConnection } from '../../store/connections';
import { activeRestriction, bearer, createCast, startLifecycleHarness, type Cast, type LifecycleHarness, type Mail } from './lifecycle-harness';

let h: LifecycleHarness;
let cast: Cast;
let reviewed: string; // reviews on Friday 15 January 2027
let ending: string; // ends on 1 December 2026

const TESS = 'tess@staff.landlord.example';
const MANAGERS = ['tara@staff.landlord.example', 'tom@staff.landlord.example'];

beforeAll(async () => {
  h = await startLifecycleHarness();
  cast = await createCast(h);
  const app = h.gateway.app;
  await request(app).put('/v1/customers/C1').set(bearer(cast.tess)).send({ name: 'Pat One', phones: ['07700 900001'], emails: ['one@example.org'], needs: [] }).expect(201);
  await request(app).put('/v1/customers/C2').set(bearer(cast.tess)).send({ name: 'Sam Two', phones: ['07700 900002'], emails: ['two@example.org'], needs: [] }).expect(201);
  reviewed = await activeRestriction(h, cast, { customerId: 'C1', reviewAt: '2027-01-15T10:00:00Z' });
  ending = await activeRestriction(h, cast, { customerId: 'C2', reviewAt: '2027-01-20T10:00:00Z', endsAt: '2026-12-01T00:00:00Z' });
  // Both notifications (print + email each) are out before the sweeps start.
  await h.waitForMail((m) => m.parsed.headers.get('x-gatekeeper-letter') === 'notification', 4);
});

afterAll(async () => {
  await h.close();
});

const notice = (kind: string) => (m: Mail) => m.parsed.headers.get('x-gatekeeper-notice') === kind;

describe('expiry', () => {
  it('expires a restriction past its end date: status, audit, flags gone from the gate, and a letter', async () => {
    // The gateway's clock is before the end date, so only the sweep can take the flags away.
    h.setNow('2026-11-30T12:00:00Z');
    const flagsBefore = await request(h.gateway.app).get('/v1/customers/C2/flags').set(bearer(cast.agent)).expect(200);
    expect(flagsBefore.body.restricted).toBe(true);

    const swept = await runDailySweep(h.deps, new Date('2026-12-01T06:00:00Z'));
    expect(swept.expired).toEqual([ending]);
    expect(swept.noticesQueued).toEqual([]);

    const stored = await h.gateway.store.restrictions.get(ending);
    expect(stored?.status).toBe('expired');
    expect(stored?.history.at(-1)).toMatchObject({ action: 'expire', from: 'active', to: 'expired', by: 'system', at: '2026-12-01T06:00:00.000Z' });
    expect((await h.gateway.store.restrictions.listByStatus('active')).map((r) => r.id)).toEqual([reviewed]);

    const gate = await h.gateway.store.gate.resolve({ phone: '07700 900002' });
    expect(gate.kind === 'resolved' ? gate.snapshot.restrictions : 'unresolved').toEqual([]);
    const flagsAfter = await request(h.gateway.app).get('/v1/customers/C2/flags').set(bearer(cast.agent)).expect(200);
    expect(flagsAfter.body).toMatchObject({ restricted: false, flags: [] });

    const audit = await h.gateway.store.audit.latest(100);
    const expiries = audit.filter((a) => a.action === 'restriction.expire' && a.entityId === ending);
    expect(expiries).toHaveLength(1);
    // Who (system), when, what and why, as for every other step.
    expect(expiries[0]?.details).toEqual({ from: 'active', to: 'expired', note: 'End date reached' });

    const letters = await h.waitForMail((m) => m.parsed.headers.get('x-gatekeeper-restriction') === ending && m.parsed.headers.get('x-gatekeeper-letter') === 'lifting', 2);
    expect(letters.find((m) => m.rcptTo.includes('two@example.org'))?.parsed.text).toContain('They have come to the end date we set when we made them.');

    // Idempotent: the next sweep finds nothing to expire, and the other restriction is untouched.
    expect((await runDailySweep(h.deps, new Date('2026-12-01T06:15:00Z'))).expired).toEqual([]);
    expect((await h.gateway.store.restrictions.get(reviewed))?.status).toBe('active');
  });
});

describe('review reminders and escalation', () => {
  it('reminds the deciding tenancy specialist 14 days before the review date, once', async () => {
    expect((await runDailySweep(h.deps, new Date('2026-12-31T06:00:00Z'))).noticesQueued).toEqual([]);

    const first = await runDailySweep(h.deps, new Date('2027-01-01T06:00:00Z'));
    expect(first.noticesQueued).toEqual([`review-upcoming.${reviewed}.2027-01-15`]);
    const [mail] = await h.waitForMail(notice('review-upcoming'));
    expect(mail?.rcptTo).toEqual([TESS]);
    expect(mail?.parsed.subject).toBe(`Review due on Friday 15 January 2027: restriction ${reviewed} (C1)`);
    expect(mail?.parsed.text).toContain('Pat One (C1)');
    expect(mail?.parsed.text).toContain('https://gatekeeper.example.org/console');

    // Later the same day and on the following days: already sent.
    expect((await runDailySweep(h.deps, new Date('2027-01-01T18:00:00Z'))).noticesQueued).toEqual([]);
    expect((await runDailySweep(h.deps, new Date('2027-01-02T06:00:00Z'))).noticesQueued).toEqual([]);
    expect((await h.mails()).filter(notice('review-upcoming'))).toHaveLength(1);
  });

  it('reminds again on the review date itself', async () => {
    const due = await runDailySweep(h.deps, new Date('2027-01-15T06:00:00Z'));
    expect(due.noticesQueued).toEqual([`review-due.${reviewed}.2027-01-15`]);
    expect(due.overdue).toEqual([]);
    const [mail] = await h.waitForMail(notice('review-due'));
    expect(mail?.rcptTo).toEqual([TESS]);
    expect(mail?.parsed.subject).toBe(`Review due today: restriction ${reviewed} (C1)`);
    expect((await runDailySweep(h.deps, new Date('2027-01-15T12:00:00Z'))).noticesQueued).toEqual([]);
  });

  it('escalates an overdue review to every ts-manager, once a day, until it is reviewed', async () => {
    const day1 = await runDailySweep(h.deps, new Date('2027-01-16T06:00:00Z'));
    expect(day1.overdue).toEqual([reviewed]);
    expect(day1.noticesQueued).toEqual(['reviews-overdue.2027-01-16']);
    const [first] = await h.waitForMail(notice('reviews-overdue'));
    expect([...(first?.rcptTo ?? [])].sort()).toEqual(MANAGERS);
    expect(first?.parsed.subject).toBe('Overdue restriction reviews: 1');
    expect(first?.parsed.text).toContain(`${reviewed} — customer C1: review was due on Friday 15 January 2027, 1 day ago; tenancy specialist: Tess Specialist`);
    // The restriction stays in force while the review is overdue.
    expect((await h.gateway.store.restrictions.get(reviewed))?.status).toBe('active');

    expect((await runDailySweep(h.deps, new Date('2027-01-16T20:00:00Z'))).noticesQueued).toEqual([]);
    const day2 = await runDailySweep(h.deps, new Date('2027-01-17T06:00:00Z'));
    expect(day2.noticesQueued).toEqual(['reviews-overdue.2027-01-17']);
    const escalations = await h.waitForMail(notice('reviews-overdue'), 2);
    expect(escalations[1]?.parsed.text).toContain('2 days ago');

    // Once the review is recorded, the escalation stops.
    h.setNow('2027-01-17T09:00:00Z');
    await request(h.gateway.app)
      .post(`/v1/restrictions/${reviewed}/review`)
      .set(bearer(cast.tess))
      .send({ outcome: 'continue', note: 'Contact is still very frequent.', nextReviewAt: '2027-04-01T09:00:00Z' })
      .expect(200);
    const day3 = await runDailySweep(h.deps, new Date('2027-01-18T06:00:00Z'));
    expect(day3).toMatchObject({ overdue: [], noticesQueued: [] });
    await h.waitForMail((m) => m.parsed.headers.get('x-gatekeeper-letter') === 'review-outcome', 2);
    expect((await h.mails()).filter(notice('reviews-overdue'))).toHaveLength(2);
  });
});

describe('job schedulers', () => {
  it('registers each scheduler once, however many times start-up registers them', async () => {
    const queue = h.producer.lifecycle;
    await registerLifecycleSchedulers(queue, 'Europe/London');
    await registerLifecycleSchedulers(queue, 'Europe/London');
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => s.key).sort()).toEqual([...SCHEDULED_JOBS].sort());
      expect(await queue.getJobSchedulersCount()).toBe(4);
      const daily = schedulers.find((s) => s.key === 'daily-sweep');
      expect(daily).toMatchObject({ pattern: DEFAULT_SCHEDULE.dailySweep, tz: 'Europe/London' });
      expect(schedulers.find((s) => s.key === 'expiry-sweep')).toMatchObject({ every: DEFAULT_SCHEDULE.expiryEveryMs });
    } finally {
      for (const id of SCHEDULED_JOBS) await queue.removeJobScheduler(id);
    }
  });

  it('runs a scheduled job through the lifecycle worker', async () => {
    const connection = createWorkerConnection(h.target);
    const events = new QueueEvents(h.producer.lifecycle.name, { connection, prefix: QUEUE_PREFIX });
    try {
      await events.waitUntilReady();
      const job = await h.producer.lifecycle.add('expiry-sweep', {});
      // Nothing left to expire: the one restriction with an end date expired above.
      await expect(job.waitUntilFinished(events, 15_000)).resolves.toEqual({ expired: [] });
    } finally {
      await events.close();
      await closeConnection(connection);
    }
  });
});
