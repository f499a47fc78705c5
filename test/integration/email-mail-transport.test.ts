/**
 * Both MailTransport adapters pass one contract: the SMTP relay adapter against a real smtp-server the
 * test starts, the outbox adapter against a temporary directory. Adapter-specific failure modes follow.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailTransportError } from '../../channels/email/errors';
import { createMailTransport, createOutboxTransport, createSmtpRelayTransport } from '../../channels/email/outbound';
import { startCaptureSmtp } from '../fixtures/mail/capture-smtp';
import { defineMailTransportContractTests } from '../fixtures/mail/transport-contract';
import { freePort, removeDir } from '../support/redis-server';

defineMailTransportContractTests('smtp-relay', async () => {
  const smtp = await startCaptureSmtp();
  const transport = createSmtpRelayTransport({ url: smtp.url });
  return {
    transport,
    delivered: async (count) => (await smtp.waitFor(count)).map((m) => m.raw),
    teardown: async () => {
      await transport.close();
      await smtp.close();
    },
  };
});

defineMailTransportContractTests('outbox', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gk-outbox-'));
  const transport = createOutboxTransport({ directory: join(dir, 'outbox') });
  return {
    transport,
    delivered: async (count) => {
      const files = readdirSync(join(dir, 'outbox')).sort();
      expect(files.filter((f) => f.endsWith('.eml'))).toHaveLength(count);
      return files.map((f) => readFileSync(join(dir, 'outbox', f)));
    },
    teardown: async () => {
      await transport.close();
      removeDir(dir);
    },
  };
});

describe('SMTP relay adapter failures', () => {
  it('reports a 5xx refusal as permanent (the job must not be retried forever)', async () => {
    const smtp = await startCaptureSmtp();
    const transport = createSmtpRelayTransport({ url: smtp.url });
    try {
      const err = await transport.send({ from: 'a@landlord.example', to: ['reject-5xx@landlord.example'], subject: 's', text: 't' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MailTransportError);
      expect(err).toMatchObject({ code: 'EPERMANENT', permanent: true, responseCode: 550 });
    } finally {
      await transport.close();
      await smtp.close();
    }
  });

  it('reports a 4xx refusal and a refused connection as transient', async () => {
    const smtp = await startCaptureSmtp();
    const transport = createSmtpRelayTransport({ url: smtp.url });
    const deadPort = await freePort();
    const dead = createSmtpRelayTransport({ url: `smtp://127.0.0.1:${deadPort}`, timeoutMs: 2000 });
    try {
      const soft = await transport.send({ from: 'a@landlord.example', to: ['reject-4xx@landlord.example'], subject: 's', text: 't' }).catch((e: unknown) => e);
      expect(soft).toMatchObject({ code: 'ETRANSIENT', permanent: false, responseCode: 451 });
      const down = await dead.send({ from: 'a@landlord.example', to: ['b@landlord.example'], subject: 's', text: 't' }).catch((e: unknown) => e);
      expect(down).toMatchObject({ code: 'ETRANSIENT', permanent: false });
    } finally {
      await transport.close();
      await dead.close();
      await smtp.close();
    }
  });

  it('sends automatic replies with MAIL FROM:<> (RFC 3834 §3.3)', async () => {
    const smtp = await startCaptureSmtp();
    const transport = createSmtpRelayTransport({ url: smtp.url });
    try {
      await transport.send({ from: 'housing@landlord.example', to: ['tenant@customer.example'], subject: 's', text: 't', envelopeFrom: null });
      await transport.send({ from: 'housing@landlord.example', to: ['tenant@customer.example'], subject: 's', text: 't' });
      const [auto, normal] = await smtp.waitFor(2);
      expect(auto!.mailFrom).toBe('');
      expect(auto!.rcptTo).toEqual(['tenant@customer.example']);
      expect(normal!.mailFrom).toBe('housing@landlord.example');
    } finally {
      await transport.close();
      await smtp.close();
    }
  });
});

describe('outbox adapter', () => {
  it('is the default without SMTP_RELAY_URL and writes whole .eml files only (no temp files left)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gk-outbox-'));
    const transport = createMailTransport({ dataDir: dir });
    try {
      expect(transport.kind).toBe('outbox');
      const sent = await transport.send({ from: 'a@landlord.example', to: ['b@landlord.example'], subject: 'hello', text: 'x'.repeat(100_000) });
      expect(sent.location).toMatch(/outbox\/[0-9A-Z]{26}\.eml$/);
      expect(readdirSync(join(dir, 'outbox'))).toEqual([sent.location!.split('/').pop()]);
      expect(readFileSync(sent.location!, 'latin1')).toContain('\r\nSubject: hello\r\n');
    } finally {
      await transport.close();
      removeDir(dir);
    }
  });

  it('fails with EOUTBOX, transient, when the directory cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gk-outbox-'));
    writeFileSync(join(dir, 'outbox'), 'a file where the directory should be');
    const transport = createOutboxTransport({ directory: join(dir, 'outbox') });
    try {
      const err = await transport.send({ from: 'a@landlord.example', to: ['b@landlord.example'], subject: 's', text: 't' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'MailTransportError', code: 'EOUTBOX', permanent: false });
    } finally {
      await transport.close();
      removeDir(dir);
    }
  });
});
