/**
 * Raw page images as PDF.js decodes them, turned into something the OCR engine reads.
 *
 * PDF.js hands back decoded pixels (whatever the PDF's filter was: JPEG, Flate, CCITT G4, JBIG2, JPEG 2000),
 * so the only encoding we need is the simplest one Leptonica (inside tesseract.js) reads: binary PGM. It is
 * a nine-byte header before the pixels — no compression and no checksum to get wrong — and OCR works in
 * grey anyway, so colour is reduced here rather than shipped three times the size into the OCR worker.
 */

/** PDF.js's `ImageKind`: how the pixels of a decoded image are laid out. */
export const IMAGE_KIND = {
  /** One bit a pixel, rows padded to whole bytes, a set bit is white. Scanners' black-and-white pages. */
  GRAYSCALE_1BPP: 1,
  RGB_24BPP: 2,
  RGBA_32BPP: 3,
} as const;

/** A decoded image from a PDF page. */
export interface RawImage {
  width: number;
  height: number;
  /** One of {@link IMAGE_KIND}. */
  kind: number;
  data: Uint8Array;
}

/** Thrown for pixel data that does not match its declared size or kind. */
export class UnsupportedImageError extends Error {
  override readonly name = 'UnsupportedImageError';
  readonly code = 'unsupported-image';
}

/** ITU-R BT.601 luma in integer arithmetic (weights sum to 1000). */
function luma(r: number, g: number, b: number): number {
  return Math.round((299 * r + 587 * g + 114 * b) / 1000);
}

/**
 * Converts a decoded PDF image to 8-bit grey, one byte a pixel, row by row from the top. Transparent pixels
 * are composited over white paper, which is what a printed page would show.
 */
export function toGrey(image: RawImage): Uint8Array {
  const { width, height, kind, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new UnsupportedImageError(`invalid image size ${width}×${height}`);
  }
  const out = new Uint8Array(width * height);
  if (kind === IMAGE_KIND.GRAYSCALE_1BPP) {
    const rowBytes = (width + 7) >> 3;
    if (data.length < rowBytes * height) throw new UnsupportedImageError('1-bit image data is too short');
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const byte = data[y * rowBytes + (x >> 3)] ?? 0;
        out[y * width + x] = byte & (0x80 >> (x & 7)) ? 255 : 0;
      }
    }
    return out;
  }
  const channels = kind === IMAGE_KIND.RGB_24BPP ? 3 : kind === IMAGE_KIND.RGBA_32BPP ? 4 : 0;
  if (channels === 0) throw new UnsupportedImageError(`unknown image kind ${kind}`);
  if (data.length < width * height * channels) throw new UnsupportedImageError('image data is too short');
  for (let i = 0, p = 0; i < out.length; i++, p += channels) {
    const grey = luma(data[p] ?? 255, data[p + 1] ?? 255, data[p + 2] ?? 255);
    if (channels === 4) {
      const alpha = data[p + 3] ?? 255;
      out[i] = Math.round((grey * alpha + 255 * (255 - alpha)) / 255);
    } else {
      out[i] = grey;
    }
  }
  return out;
}

/** Encodes 8-bit grey pixels as a binary PGM (Netpbm `P5`) file. */
export function encodePgm(width: number, height: number, grey: Uint8Array): Buffer {
  if (grey.length !== width * height) throw new UnsupportedImageError('pixel count does not match the size');
  return Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`, 'ascii'), grey]);
}

/** A decoded PDF image as a PGM file for OCR. */
export function rawImageToPgm(image: RawImage): Buffer {
  return encodePgm(image.width, image.height, toGrey(image));
}
