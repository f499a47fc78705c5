/**
 * Redis goes away and comes back: the listener refuses with 451 meanwhile (the sender keeps the message),
 * and everything accepted before the outage is processed and forwarded once Redis returns — the workers
 * resume where they stopped. Redis runs append-only here, as DESIGN.md §4 has `npm start` run it.
 */
import nodemailer from 'nodemailer';
import { buildMessage } from '../fixtures/mail/builders';
import { MAILBOX, eventually, seed, startPipeline, type Pipeline } from '../fixtures/mail/pipeline-harness';

let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline({ redisArgs: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  await seed(p, { customers: [{ id: 'C2001', name: 'Kim Patient', email: 'kim@customer.example' }] });
}, 60_000);

afterAll(async () => {
  await p?.close();
});

it('loses nothing across a Redis outage: accepted messages are processed after it, refused ones are accepted on retry', async () => {
  // Hold processing so that the accepted messages are still queued when Redis goes away.
  const processWorker = p.workers.workers[0]!;
  await processWorker.pause();
  const before = Array.from({ length: 3 }, (_, i) => buildMessage({ from: 'kim@customer.example', subject: `Before the outage ${i}`, text: `Message ${i} sent before the outage.` }));
  const keys = await Promise.all(before.map((raw) => p.deliver(raw, { from: 'kim@customer.example' })));

  await p.redis.stop();
  const during = buildMessage({ from: 'kim@customer.example', subject: 'During the outage', text: 'Sent while Redis was down.' });
  const sender = nodemailer.createTransport({ host: '127.0.0.1', port: p.listener.port, secure: false, ignoreTLS: true });
  const refused = await sender.sendMail({ envelope: { from: 'kim@customer.example', to: [MAILBOX.writeTo] }, raw: during }).catch((e: unknown) => e);
  expect(refused).toMatchObject({ responseCode: 451 });
  await p.redis.restart();
  processWorker.resume();

  // The sending server retries the refused message.
  const retried = await eventually(async () => {
    try {
      return await p.deliver(during, { from: 'kim@customer.example' });
    } catch {
      return undefined;
    }
  }, 30_000, 'the retried message to be accepted');
  for (const key of [...keys, retried]) {
    await eventually(async () => ((await p.workers.deps.raw.meta(key))?.forwardedAt !== undefined ? true : undefined), 30_000, `forward of ${key}`);
  }
  for (const raw of [...before, during]) {
    expect(p.outbound.messages.filter((m) => m.rcptTo.includes(MAILBOX.default) && m.raw.includes(raw))).toHaveLength(1);
  }
  sender.close();
}, 90_000);
