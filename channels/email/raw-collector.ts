/**
 * Collects one inbound message as it streams in (SMTP DATA, an HTTP body): counts bytes against
 * MAX_MESSAGE_BYTES — enforced on the stream, not merely advertised — hashes incrementally, and keeps
 * the chunks as they came (no concatenated copy). Past the limit it keeps counting but drops the bytes,
 * so the sender's stream can be drained before it is refused.
 */
import { createHash, type Hash } from 'node:crypto';
import { messageKeyOf, normaliseMessageId, readHeaderBlock } from './message-key';

/** The collected message. */
export interface CollectedMessage {
  chunks: Buffer[];
  size: number;
  sha256: string;
  messageKey: string;
}

/** How much of the start of a message is searched for its header block. */
const HEAD_BYTES = 64 * 1024;

/** Accumulates one message; see the module comment. */
export class RawCollector {
  private readonly chunks: Buffer[] = [];
  private readonly hash: Hash = createHash('sha256');
  private headParts: Buffer[] = [];
  private headBytes = 0;
  /** Bytes seen so far (including any dropped past the limit). */
  size = 0;

  /** @param maxBytes the largest message accepted (`MAX_MESSAGE_BYTES`) */
  constructor(private readonly maxBytes: number) {}

  /** True once more than `maxBytes` have been seen. */
  get tooLarge(): boolean {
    return this.size > this.maxBytes;
  }

  /** Takes the next chunk. */
  push(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.tooLarge) {
      // Release what we had: the message will be refused, and a 25 MB+ stream should not sit in memory.
      this.chunks.length = 0;
      this.headParts = [];
      return;
    }
    this.chunks.push(chunk);
    this.hash.update(chunk);
    if (this.headBytes < HEAD_BYTES) {
      this.headParts.push(chunk);
      this.headBytes += chunk.length;
    }
  }

  /** Finishes: the chunks, size, SHA-256 and message key. Call only when not {@link tooLarge}. */
  finish(): CollectedMessage {
    const sha256 = this.hash.digest('hex');
    const head = Buffer.concat(this.headParts).subarray(0, HEAD_BYTES);
    const messageId = normaliseMessageId(readHeaderBlock(head).get('message-id')?.[0]);
    return { chunks: this.chunks, size: this.size, sha256, messageKey: messageKeyOf(messageId, sha256) };
  }
}
