/**
 * The message key: how a message is recognised when it is delivered twice (a sender that did not see
 * our 250 and retried, a webhook retried after a timeout). It is the SHA-256 of the normalised
 * Message-ID, or — for the rare message without one — the SHA-256 of the raw bytes. Hashing keeps
 * addresses that some mailers put into Message-IDs out of Redis key names, job ids and logs, and gives a
 * key that is safe in a BullMQ job id and a Redis hash tag.
 */
import { createHash } from 'node:crypto';

/** The end of the header block: the first empty line. Returns the offset of the body, or -1. */
function headerEnd(head: Buffer): number {
  const crlf = head.indexOf('\r\n\r\n');
  const lf = head.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 4;
  return lf >= 0 ? lf + 2 : -1;
}

/**
 * Reads the header fields of a message's header block (the bytes before the first empty line),
 * unfolded; names lower-cased; repeated fields keep every value in order.
 * @param head the start of the raw message (at least the whole header block, or all of it)
 */
export function readHeaderBlock(head: Buffer): Map<string, string[]> {
  const end = headerEnd(head);
  const text = head.subarray(0, end < 0 ? head.length : end).toString('latin1');
  const fields = new Map<string, string[]>();
  for (const line of text.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const list = fields.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    fields.set(name, list);
  }
  return fields;
}

/**
 * Normalises a Message-ID field value: the first `<…>` token without brackets or whitespace, with the
 * domain part lower-cased (domains are case-insensitive; local parts, strictly, are not). Returns
 * `undefined` when nothing usable is there.
 */
export function normaliseMessageId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const bracketed = /<([^>]*)>/.exec(value);
  const id = (bracketed ? bracketed[1]! : value).replace(/\s+/g, '');
  if (id === '') return undefined;
  const at = id.lastIndexOf('@');
  return at < 0 ? id : `${id.slice(0, at)}@${id.slice(at + 1).toLowerCase()}`;
}

/**
 * The message key of a message.
 * @param messageId the normalised Message-ID, if the message has one
 * @param sha256 the SHA-256 (hex) of the raw bytes
 * @returns `mid-<hex>` or `sha-<hex>`
 */
export function messageKeyOf(messageId: string | undefined, sha256: string): string {
  if (messageId === undefined) return `sha-${sha256}`;
  return `mid-${createHash('sha256').update(messageId, 'utf8').digest('hex')}`;
}
