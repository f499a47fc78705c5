/**
 * MailTransport adapter for a bare machine: with no `SMTP_RELAY_URL`, every outbound message is
 * written as an RFC 822 `.eml` file under `<dataDir>/outbox`, where a person (or a mail client) can
 * open it. Files appear atomically: written to a dot-file, flushed, then renamed, so a reader never
 * sees half a message.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import nodemailer from 'nodemailer';
import { ulid } from 'ulid';
import { keepEmptyHeaders, toNodemailerOptions } from './compose';
import { MailTransportError } from './errors';
import type { MailTransport, OutboundMessage, SentMail } from './mail-transport';

/** Options of {@link createOutboxTransport}. */
export interface OutboxOptions {
  /** The directory the `.eml` files go to (created if missing), normally `<dataDir>/outbox`. */
  directory: string;
}

/**
 * Creates the outbox adapter.
 * @param options where to write
 * @returns a MailTransport that writes `.eml` files
 */
export function createOutboxTransport(options: OutboxOptions): MailTransport {
  // newline 'windows': RFC 5322 messages use CRLF, and .eml files are opened by mail clients as such.
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: false, newline: 'windows' });
  composer.use('stream', keepEmptyHeaders);
  let ready: Promise<unknown> | undefined;
  return {
    kind: 'outbox',
    async send(message: OutboundMessage): Promise<SentMail> {
      ready ??= mkdir(options.directory, { recursive: true });
      const name = `${ulid()}.eml`; // ulid: files sort by time of writing
      const finalPath = join(options.directory, name);
      const tempPath = join(options.directory, `.${name}.tmp`);
      try {
        await ready;
        const info = await composer.sendMail(toNodemailerOptions(message));
        const source = Buffer.isBuffer(info.message) ? Readable.from([info.message]) : info.message;
        await pipeline(source, createWriteStream(tempPath, { flags: 'wx' }));
        const handle = await open(tempPath, 'r');
        try {
          await handle.sync(); // the rename below must never expose a file whose bytes are not on disk
        } finally {
          await handle.close();
        }
        await rename(tempPath, finalPath);
        const recipients = [...message.to, ...(message.cc ?? [])];
        return { messageId: info.messageId, accepted: recipients, location: finalPath };
      } catch (err) {
        ready = undefined; // try creating the directory again next time (it may have been fixed)
        await rm(tempPath, { force: true }).catch(() => undefined);
        throw new MailTransportError('EOUTBOX', `could not write to the outbox: ${(err as Error).message}`, false, undefined, { cause: err });
      }
    },
    async close(): Promise<void> {
      composer.close();
    },
  };
}
