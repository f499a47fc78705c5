/**
 * Translation of our {@link OutboundMessage} into nodemailer's message options — shared by both
 * transports so an `.eml` in the outbox is byte-for-byte what the relay would have been sent.
 */
import type { SendMailOptions } from 'nodemailer';
import type { OutboundMessage } from './mail-transport';

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
