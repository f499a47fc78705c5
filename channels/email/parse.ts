/**
 * Raw RFC 822 → the facts the gate needs: sender, subject, the text (HTML-only mail converted), what
 * the customer newly wrote, attachments, and the headers RFC 3834 looks at.
 *
 * Memory: the message is parsed as a stream (mailparser's `MailParser`, which `simpleParser` wraps) fed
 * straight from the raw-message store in slices; attachments are counted and drained unless the caller
 * asks to keep one (a scanned letter's PDF), so a 20 MB attachment never sits in memory.
 *
 * Malformed MIME is never dropped: whatever could be read is returned with `malformed: true` and the
 * problems found, so the message is recorded and routed to a person.
 */
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { convert } from 'html-to-text';
import { MailParser, type AddressObject, type AttachmentStream, type HeaderLines, type HeaderValue, type MessageText } from 'mailparser';
import { LIST_HEADER_NAMES } from './auto-reply';
import { readHeaderBlock } from './message-key';
import { authoredText } from '../../rules/word-count';

/** An attachment (or inline part) of a parsed message. */
export interface ParsedAttachment {
  filename?: string;
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
  inline: boolean;
  /** Present only when the caller asked to keep this attachment. */
  content?: Buffer;
}

/** What went wrong reading a message. */
export type ParseProblem =
  /** The top-level multipart body ends without its closing boundary (a truncated message). */
  | 'unterminated-multipart'
  /** The MIME parser gave up part-way. */
  | 'parse-error'
  /** No usable From address. */
  | 'no-sender'
  /** A kept attachment exceeded the keep limit and was dropped. */
  | 'attachment-too-large';

/** The headers RFC 3834 (and our loop detection) decide on, names lower-cased. */
export type ReplyHeaders = Readonly<Record<string, string | undefined>>;

/** The header names read from mailparser's parsed headers into {@link ParsedEmail.replyHeaders}. */
const PARSED_REPLY_HEADER_NAMES = [
  'auto-submitted',
  'precedence',
  'content-type',
  'return-path',
  'x-auto-response-suppress',
  'x-gatekeeper-loop',
  'x-autoreply',
  'x-autorespond',
  'x-auto-reply',
  'feedback-id',
] as const;

/**
 * The header names copied into {@link ParsedEmail.replyHeaders}: those above, and the list headers
 * (RFC 2369, RFC 2919), which are read from the raw header lines instead (see {@link listHeaders}).
 */
export const REPLY_HEADER_NAMES = [...PARSED_REPLY_HEADER_NAMES, ...LIST_HEADER_NAMES] as const;

/** A parsed message. */
export interface ParsedEmail {
  /** The Message-ID as written (with angle brackets), if any. */
  messageId?: string;
  /** The From address, lower-cased, and display name. */
  from?: { address: string; name?: string };
  /** The first Reply-To address, if any. */
  replyTo?: string;
  to: string[];
  subject: string;
  /** ISO instant of the Date header, if readable. */
  date?: string;
  /** The whole plain text (converted from HTML when the message has no text part). */
  text: string;
  /**
   * What the sender newly wrote: {@link text} without the quoted thread or signature (rules/word-count
   * `authoredText`, the same cut the word limit counts). Emergency detection reads this, not the whole
   * text: a quoted acknowledgement of ours always explains how to report an emergency, and must not make
   * every reply an emergency.
   */
  replyText: string;
  htmlOnly: boolean;
  attachments: ParsedAttachment[];
  inReplyTo?: string;
  references: string[];
  replyHeaders: ReplyHeaders;
  malformed: boolean;
  problems: ParseProblem[];
}

/** Options of {@link parseEmail}. */
export interface ParseOptions {
  /** Keep this attachment's bytes (e.g. a letter's PDF or scan). Default: keep none. */
  keep?: (attachment: { filename?: string; contentType: string }) => boolean;
  /** The most bytes kept per attachment; larger ones are dropped with `attachment-too-large`. Default 30 MB. */
  maxKeepBytes?: number;
}

/** html-to-text settings for mail: no wrapping (word counts), no link targets or images. */
const HTML_TO_TEXT = {
  wordwrap: false as const,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'head', format: 'skip' },
  ],
};

/**
 * Converts an HTML body to plain text.
 * @param html the HTML
 */
export function htmlToText(html: string): string {
  return convert(html, HTML_TO_TEXT).trim();
}

/**
 * Passes bytes through unchanged while watching for the top-level multipart's closing boundary, so a
 * truncated message can be told from a complete one.
 */
class ClosingBoundaryWatch extends Transform {
  private head: Buffer[] = [];
  private headBytes = 0;
  private delimiter: Buffer | null | undefined; // undefined: not known yet; null: not multipart
  private tail = Buffer.alloc(0);
  /** True once the closing delimiter was seen (or the message is not multipart). */
  complete = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.delimiter === undefined) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      const head = Buffer.concat(this.head);
      const ended = head.indexOf('\r\n\r\n') >= 0 || head.indexOf('\n\n') >= 0;
      if (ended || this.headBytes > 256 * 1024) {
        const type = readHeaderBlock(head).get('content-type')?.[0] ?? '';
        const boundary = /^\s*multipart\/[^;]*;(?:.*?;)?\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(type);
        const b = boundary?.[1] ?? boundary?.[2];
        this.delimiter = b === undefined ? null : Buffer.from(`--${b}--`, 'latin1');
        this.complete = this.delimiter === null;
        this.head = [];
        if (this.delimiter) this.scan(head);
      }
    } else if (this.delimiter && !this.complete) {
      this.scan(chunk);
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.delimiter === undefined) this.complete = true; // headers only: not multipart
    done();
  }

  private scan(chunk: Buffer): void {
    const delimiter = this.delimiter!;
    const window = Buffer.concat([this.tail, chunk]);
    if (window.indexOf(delimiter) >= 0) this.complete = true;
    this.tail = window.subarray(Math.max(0, window.length - delimiter.length + 1));
  }
}

function firstAddress(value: HeaderValue | undefined): { address: string; name?: string } | undefined {
  const objects = (Array.isArray(value) ? value : [value]) as Array<AddressObject | undefined>;
  for (const o of objects) {
    for (const a of o?.value ?? []) {
      if (typeof a.address === 'string' && a.address.includes('@')) {
        return a.name ? { address: a.address.toLowerCase(), name: a.name } : { address: a.address.toLowerCase() };
      }
    }
  }
  return undefined;
}

function allAddresses(value: HeaderValue | undefined): string[] {
  const objects = (Array.isArray(value) ? value : [value]) as Array<AddressObject | undefined>;
  return objects.flatMap((o) => (o?.value ?? []).flatMap((a) => (a.address ? [a.address.toLowerCase()] : [])));
}

function headerText(value: HeaderValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => headerText(v as HeaderValue) ?? '').join(', ');
  if (typeof value === 'object' && 'value' in value) {
    const v = value as { value: unknown; params?: Record<string, string>; text?: string };
    if (typeof v.text === 'string') return v.text;
    if (typeof v.value === 'string') return v.params && Object.keys(v.params).length > 0 ? `${v.value}; ${Object.entries(v.params).map(([k, p]) => `${k}=${p}`).join('; ')}` : v.value;
  }
  return String(value);
}

/**
 * The list header fields (RFC 2369, RFC 2919) of the top-level header block, by lower-cased name, each
 * unfolded as written (the first, if repeated; `''` if present but empty).
 *
 * They are read from the raw header lines because mailparser's parsed headers cannot tell them: it folds
 * every `List-*` field into one `list` header (`{ id: {…}, unsubscribe: {…}, post: {…} }`), so
 * `get('list-id')` never finds anything, and it leaves out a field whose value does not parse as an
 * address list (an empty one, say). What RFC 3834 asks about is only whether the field is there.
 * @param lines the top-level header lines (mailparser's `headerLines` event)
 */
function listHeaders(lines: HeaderLines): Partial<Record<(typeof LIST_HEADER_NAMES)[number], string>> {
  const names: readonly string[] = LIST_HEADER_NAMES;
  const found: Record<string, string> = {};
  for (const { key, line } of lines) {
    const name = key.trim().toLowerCase();
    if (!names.includes(name) || name in found) continue;
    const colon = line.indexOf(':');
    found[name] = (colon < 0 ? '' : line.slice(colon + 1)).replace(/\r?\n[ \t]+/g, ' ').trim();
  }
  return found;
}

/**
 * Parses one raw message from a stream.
 * @param source the raw bytes (e.g. `RawMessageStore.openStream(key)`)
 * @param options which attachments to keep
 * @returns the parsed message; never rejects for bad MIME (see `malformed`), only for a failing source
 */
export async function parseEmail(source: Readable, options: ParseOptions = {}): Promise<ParsedEmail> {
  const keep = options.keep ?? (() => false);
  const maxKeep = options.maxKeepBytes ?? 30 * 1024 * 1024;
  const watch = new ClosingBoundaryWatch();
  const parser = new MailParser({ skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
  const problems = new Set<ParseProblem>();
  const attachments: ParsedAttachment[] = [];
  const pending: Array<Promise<void>> = [];
  // Attachments still being read. A parser that fails part-way (mailsplit refuses more than ~1,000 parts,
  // or too deep a nesting) never ends the content stream of the attachment it was in: without finishing
  // those here, the parse would wait for them for ever, and so would the job and the worker's slot.
  const unfinished = new Set<() => void>();
  let headers = new Map<string, HeaderValue>();
  let headerLines: HeaderLines = [];
  let text: string | undefined;
  let html: string | undefined;

  parser.on('headers', (h: Map<string, HeaderValue>) => {
    headers = h;
  });
  // Emitted for the top-level header block only (not for the headers of an attached message).
  parser.on('headerLines', (lines: HeaderLines) => {
    headerLines = lines;
  });
  parser.on('data', (data: AttachmentStream | MessageText) => {
    if (data.type === 'text') {
      if (typeof data.text === 'string') text = data.text;
      if (typeof data.html === 'string') html = data.html;
      return;
    }
    const meta = { contentType: data.contentType, ...(data.filename ? { filename: data.filename } : {}) };
    const keeping = keep(meta);
    const chunks: Buffer[] = [];
    let size = 0;
    pending.push(
      new Promise<void>((resolve) => {
        data.content.on('data', (c: Buffer) => {
          size += c.length;
          if (keeping && size <= maxKeep) chunks.push(c);
        });
        const finish = (): void => {
          if (!unfinished.delete(finish)) return;
          const attachment: ParsedAttachment = { ...meta, size, inline: data.contentDisposition === 'inline' || data.related === true };
          if (keeping && size <= maxKeep) attachment.content = Buffer.concat(chunks);
          else if (keeping) problems.add('attachment-too-large');
          attachments.push(attachment);
          data.release?.();
          resolve();
        };
        unfinished.add(finish);
        data.content.once('end', finish);
        data.content.once('error', finish);
      }),
    );
  });

  const parsed = new Promise<void>((resolve) => {
    parser.once('end', () => resolve());
    parser.once('error', () => {
      problems.add('parse-error');
      resolve();
    });
  });
  const sourceFailed = new Promise<never>((_, reject) => {
    source.once('error', (err) => {
      parser.destroy();
      reject(err);
    });
  });
  source.pipe(watch).pipe(parser);
  // A parser that errors stops reading; keep the source flowing so it can end.
  parser.once('error', () => {
    watch.unpipe(parser);
    watch.pipe(new PassThrough()).resume();
    for (const finish of [...unfinished]) finish();
  });
  await Promise.race([parsed, sourceFailed]);
  await Promise.all(pending);

  if (!watch.complete) problems.add('unterminated-multipart');
  const from = firstAddress(headers.get('from'));
  if (from === undefined) problems.add('no-sender');

  const htmlOnly = (text === undefined || text.trim() === '') && html !== undefined;
  const fullText = (htmlOnly ? htmlToText(html ?? '') : (text ?? '')).trim();
  const replyHeaders: Record<string, string | undefined> = {};
  for (const name of PARSED_REPLY_HEADER_NAMES) replyHeaders[name] = headerText(headers.get(name));
  Object.assign(replyHeaders, listHeaders(headerLines));
  const contentType = headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  if (contentType?.value) replyHeaders['content-type'] = contentType.value.toLowerCase();

  const references = headerText(headers.get('references'));
  const result: ParsedEmail = {
    to: allAddresses(headers.get('to')),
    subject: headerText(headers.get('subject')) ?? '',
    text: fullText,
    replyText: authoredText(fullText),
    htmlOnly,
    attachments,
    references: references ? (references.match(/<[^>]+>/g) ?? []) : [],
    replyHeaders,
    malformed: [...problems].some((p) => p !== 'attachment-too-large'),
    problems: [...problems],
  };
  const messageId = headerText(headers.get('message-id'));
  if (messageId) result.messageId = messageId.startsWith('<') ? messageId : `<${messageId}>`;
  if (from) result.from = from;
  const replyTo = firstAddress(headers.get('reply-to'));
  if (replyTo) result.replyTo = replyTo.address;
  const date = headers.get('date');
  if (date instanceof Date && !Number.isNaN(date.getTime())) result.date = date.toISOString();
  const inReplyTo = headerText(headers.get('in-reply-to'));
  if (inReplyTo) result.inReplyTo = inReplyTo;
  return result;
}
