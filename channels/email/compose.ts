/**
 * Translation of our {@link OutboundMessage} into nodemailer's message options — shared by both
 * transports so an `.eml` in the outbox is byte-for-byte what the relay would have been sent — and the
 * nodemailer plugin both transports install so that a header field with an empty value is still sent.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { SendMailOptions } from 'nodemailer';
import type { OutboundMessage } from './mail-transport';

/** A header field name as RFC 5322 §3.6.8 allows it: printable US-ASCII except the colon. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * Adds empty header fields at the end of a message's top-level header block (just before the empty line
 * that ends it), unless the block already has a field of that name; every other byte passes unchanged.
 * It sees nodemailer's output before any newline conversion, so the header block ends in CRLF CRLF.
 */
class AppendEmptyHeaderFields extends Transform {
  /** The start of the message while the end of its header block has not been seen; `undefined` after. */
  private head: Buffer | undefined = Buffer.alloc(0);

  constructor(private readonly names: readonly string[]) {
    super();
  }

  // Buffers only: a Transform's writable side decodes strings written to it (decodeStrings).
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.head === undefined) {
      done(null, chunk);
      return;
    }
    const head = Buffer.concat([this.head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      this.head = head;
      done();
      return;
    }
    this.head = undefined;
    const block = head.subarray(0, end + 2); // every header line, each with its CRLF
    const present = new Set(
      block
        .toString('latin1')
        .split('\r\n')
        .filter((line) => /^[^\s:][^:]*:/.test(line))
        .map((line) => line.slice(0, line.indexOf(':')).trim().toLowerCase()),
    );
    // `Name: ` with nothing after the space: an unstructured field whose value is empty (RFC 5322 §3.2.5).
    const added = this.names.filter((name) => !present.has(name.toLowerCase())).map((name) => `${name}: \r\n`);
    done(null, Buffer.concat([block, Buffer.from(added.join(''), 'latin1'), head.subarray(end + 2)]));
  }

  override _flush(done: TransformCallback): void {
    // Only a message without a header block ends here; pass it on as it came.
    if (this.head !== undefined && this.head.length > 0) this.push(this.head);
    done();
  }
}

/** The part of nodemailer's `MailMessage` that {@link keepEmptyHeaders} uses. */
export interface PluginMail {
  data: { headers?: SendMailOptions['headers'] };
  message: { transform(transform: () => Transform): void };
}

/**
 * A nodemailer plugin for the `stream` step (`transporter.use('stream', keepEmptyHeaders)`): a header
 * field given in `headers` with an empty value goes out as an empty field instead of not at all.
 *
 * nodemailer leaves such a field out (MimeNode `buildHeaders` skips an empty value, `prepared` or not),
 * but some of ours must always be there: `X-Gatekeeper-Reasons` is empty when a decision has no reasons
 * (an accepted email or letter from a restricted customer whose measures shape nothing), and a mailbox
 * rule or script that looks for the field must still find it (DESIGN.md §4).
 * @param mail the message being sent (its compiled MIME tree is `mail.message`)
 * @param done nodemailer's plugin callback
 */
export function keepEmptyHeaders(mail: PluginMail, done: (err?: Error | null) => void): void {
  const headers = mail.data.headers;
  const empty =
    headers !== undefined && !Array.isArray(headers)
      ? Object.entries(headers)
          .filter(([name, value]) => typeof value === 'string' && value.trim() === '' && FIELD_NAME.test(name))
          .map(([name]) => name)
      : [];
  // A factory, not a stream: nodemailer makes a fresh read stream of the message for each attempt.
  if (empty.length > 0) mail.message.transform(() => new AppendEmptyHeaderFields(empty));
  done();
}

/**
 * Builds nodemailer `sendMail` options from an outbound message.
 * @param message the message to send
 * @returns options for `Transporter.sendMail`
 */
export function toNodemailerOptions(message: OutboundMessage): SendMailOptions {
  const recipients = [...message.to, ...(message.cc ?? [])];
  const options: SendMailOptions = {
    from: message.from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    headers: message.headers ?? {},
    attachments: (message.attachments ?? []).map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.content,
      // A forwarded original must reach the person unchanged: no transfer encoding beyond what
      // nodemailer picks for message/rfc822 (7bit/8bit, i.e. the bytes as they are).
      contentDisposition: 'attachment' as const,
    })),
  };
  if (message.cc !== undefined && message.cc.length > 0) options.cc = message.cc;
  if (message.replyTo !== undefined) options.replyTo = message.replyTo;
  if (message.html !== undefined) options.html = message.html;
  if (message.messageId !== undefined) options.messageId = message.messageId;
  if (message.inReplyTo !== undefined) options.inReplyTo = message.inReplyTo;
  if (message.references !== undefined && message.references.length > 0) options.references = message.references;
  if (message.envelopeFrom !== undefined) {
    options.envelope = { from: message.envelopeFrom === null ? false : message.envelopeFrom, to: recipients };
  }
  return options;
}
