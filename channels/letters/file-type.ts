/**
 * What an attachment really is. Scanning bureaus and mail clients label files loosely
 * (`application/octet-stream`, `image/jpg`, a `.pdf` that is a TIFF), so the first bytes decide; the declared
 * content type and file name are only a fallback for formats without a signature we know.
 */

/** The kinds of attachment the letters channel can read. */
export type LetterFileType = 'pdf' | 'png' | 'jpeg' | 'tiff' | 'bmp' | 'webp';

/** Image types the OCR engine (Leptonica inside tesseract.js) decodes. */
export const OCR_IMAGE_TYPES: readonly LetterFileType[] = ['png', 'jpeg', 'tiff', 'bmp', 'webp'];

const startsWith = (buf: Uint8Array, bytes: number[], at = 0): boolean => bytes.every((b, i) => buf[at + i] === b);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** The type given by a file's signature ("magic number"), if it has one we know. */
export function sniffFileType(content: Uint8Array): LetterFileType | undefined {
  // PDF readers accept the header anywhere in the first KiB; some scanners put junk before it.
  const head = Buffer.from(content.buffer, content.byteOffset, Math.min(content.byteLength, 1024));
  if (head.indexOf('%PDF-', 0, 'latin1') >= 0) return 'pdf';
  if (startsWith(content, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(content, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(content, [0x49, 0x49, 0x2a, 0x00]) || startsWith(content, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(content, ascii('BM')) && content.byteLength > 26) return 'bmp';
  if (startsWith(content, ascii('RIFF')) && startsWith(content, ascii('WEBP'), 8)) return 'webp';
  return undefined;
}

const BY_CONTENT_TYPE: Record<string, LetterFileType> = {
  'application/pdf': 'pdf',
  'application/x-pdf': 'pdf',
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/pjpeg': 'jpeg',
  'image/tiff': 'tiff',
  'image/tif': 'tiff',
  'image/bmp': 'bmp',
  'image/webp': 'webp',
};

const BY_EXTENSION: Record<string, LetterFileType> = {
  pdf: 'pdf',
  png: 'png',
  jpg: 'jpeg',
  jpeg: 'jpeg',
  tif: 'tiff',
  tiff: 'tiff',
  bmp: 'bmp',
  webp: 'webp',
};

/**
 * The type of an attachment: its signature when it has one we know, else its declared content type, else its
 * file extension; `undefined` for anything else (a Word document, a zip, an unlabelled blob).
 */
export function detectFileType(attachment: { filename: string; contentType: string; content: Uint8Array }): LetterFileType | undefined {
  const sniffed = sniffFileType(attachment.content);
  if (sniffed) return sniffed;
  const declared = BY_CONTENT_TYPE[attachment.contentType.split(';')[0]?.trim().toLowerCase() ?? ''];
  if (declared) return declared;
  const extension = /\.([a-z0-9]+)$/i.exec(attachment.filename)?.[1]?.toLowerCase();
  return extension ? BY_EXTENSION[extension] : undefined;
}

/**
 * Splits a multi-page TIFF (a common scanner output) into single-page TIFFs, because the OCR engine reads only
 * the first image of a file. Each page is a copy of the whole file whose header points at that page's
 * directory, with the directory's link to the next page cut: strip offsets are absolute, so nothing else
 * moves. Returns at most `maxPages` pages and the number of pages found in all; a file it cannot follow
 * (BigTIFF, a broken directory chain) is returned whole as one page.
 */
export function splitTiffPages(tiff: Buffer, maxPages: number): { pages: Buffer[]; totalPages: number } {
  const littleEndian = tiff[0] === 0x49;
  const u16 = (at: number): number => (littleEndian ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number): number => (littleEndian ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const whole = { pages: [tiff], totalPages: 1 };
  if (tiff.length < 8 || u16(2) !== 42) return whole;

  const directories: number[] = [];
  const seen = new Set<number>();
  let offset = u32(4);
  // A directory chain that loops or runs off the end is malformed: stop following it.
  while (offset !== 0 && !seen.has(offset) && offset + 2 <= tiff.length) {
    const next = offset + 2 + u16(offset) * 12;
    if (next + 4 > tiff.length) break;
    seen.add(offset);
    directories.push(offset);
    offset = u32(next);
  }
  if (directories.length <= 1) return whole;

  const pages = directories.slice(0, maxPages).map((directory) => {
    const page = Buffer.from(tiff);
    const nextLink = directory + 2 + u16(directory) * 12;
    if (littleEndian) {
      page.writeUInt32LE(directory, 4);
      page.writeUInt32LE(0, nextLink);
    } else {
      page.writeUInt32BE(directory, 4);
      page.writeUInt32BE(0, nextLink);
    }
    return page;
  });
  return { pages, totalPages: directories.length };
}
