/**
 * A guard against PDF "bombs": a small file whose compressed streams inflate to gigabytes. PDF.js inflates
 * a stream whole into an ArrayBuffer, outside the reader thread's heap limit, so before a PDF reaches it
 * every Flate stream is inflated here with zlib's `maxOutputLength` — memory stays bounded by the limit
 * whatever the file claims — and a PDF over the limit goes to a person instead.
 */
import { inflateSync, constants } from 'node:zlib';

/** Largest a single stream may inflate to. */
export const DEFAULT_MAX_STREAM_BYTES = 64 * 1024 * 1024;
/** Largest all streams together may inflate to. */
export const DEFAULT_MAX_TOTAL_BYTES = 256 * 1024 * 1024;

const STREAM = Buffer.from('stream');
const END_STREAM = Buffer.from('endstream');

/**
 * How many bytes the PDF's Flate streams inflate to, or `undefined` as soon as one stream or the total
 * goes over its limit. Streams that are not Flate (JPEG scans, CCITT) fail to inflate and are skipped:
 * PDF.js bounds those itself.
 */
export function inflatedSizeWithin(pdf: Uint8Array, limits: { maxStreamBytes?: number; maxTotalBytes?: number } = {}): number | undefined {
  const maxStream = limits.maxStreamBytes ?? DEFAULT_MAX_STREAM_BYTES;
  const maxTotal = limits.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
  const data = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  let total = 0;
  let from = 0;
  for (;;) {
    const start = data.indexOf(STREAM, from);
    if (start < 0) return total;
    // "endstream" also contains "stream": skip it.
    if (start >= 3 && data.subarray(start - 3, start).toString('latin1') === 'end') {
      from = start + STREAM.length;
      continue;
    }
    let body = start + STREAM.length;
    if (data[body] === 0x0d) body++;
    if (data[body] === 0x0a) body++;
    const end = data.indexOf(END_STREAM, body);
    if (end < 0) return total;
    try {
      const inflated = inflateSync(data.subarray(body, end), { maxOutputLength: Math.min(maxStream, maxTotal - total) + 1, finishFlush: constants.Z_SYNC_FLUSH });
      total += inflated.length;
      if (inflated.length > maxStream || total > maxTotal) return undefined;
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return undefined;
      // Not Flate data (or damaged): nothing inflated here.
    }
    from = end + END_STREAM.length;
  }
}
