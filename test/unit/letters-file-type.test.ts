import { detectFileType, sniffFileType, splitTiffPages } from '../../channels/letters/file-type';
import { encodePgm, IMAGE_KIND, rawImageToPgm, toGrey, UnsupportedImageError } from '../../channels/letters/raster';
import { encodePng, encodeTiff, type GreyImage } from '../fixtures/letters/text-image';

const grey = (width: number, height: number, value: number): GreyImage => ({ width, height, pixels: new Uint8Array(width * height).fill(value) });

describe('detectFileType', () => {
  it('trusts the bytes over the label', () => {
    const png = encodePng(grey(4, 4, 255));
    expect(detectFileType({ filename: 'scan.pdf', contentType: 'application/pdf', content: png })).toBe('png');
    expect(detectFileType({ filename: 'scan.bin', contentType: 'application/octet-stream', content: Buffer.from('%PDF-1.7\n...') })).toBe('pdf');
  });

  it('finds a PDF header after leading junk, and knows JPEG, TIFF (both byte orders), BMP and WebP', () => {
    expect(sniffFileType(Buffer.concat([Buffer.alloc(100, 0x20), Buffer.from('%PDF-1.4')]))).toBe('pdf');
    expect(sniffFileType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toBe('jpeg');
    expect(sniffFileType(Buffer.from([0x49, 0x49, 0x2a, 0x00]))).toBe('tiff');
    expect(sniffFileType(Buffer.from([0x4d, 0x4d, 0x00, 0x2a]))).toBe('tiff');
    expect(sniffFileType(Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]))).toBe('bmp');
    expect(sniffFileType(Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]))).toBe('webp');
  });

  it('falls back to the content type, then the extension, and gives up on anything else', () => {
    const unknown = Buffer.from('no signature here');
    expect(detectFileType({ filename: 'x', contentType: 'image/JPEG; name=x', content: unknown })).toBe('jpeg');
    expect(detectFileType({ filename: 'letter.TIF', contentType: 'application/octet-stream', content: unknown })).toBe('tiff');
    const docx = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(30)]);
    expect(detectFileType({ filename: 'letter.docx', contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', content: docx })).toBeUndefined();
  });
});

describe('splitTiffPages', () => {
  const pages = [grey(8, 4, 10), grey(6, 3, 20), grey(5, 5, 30)];
  const tiff = encodeTiff(pages);

  it('makes one single-page TIFF per page, each pointing at its own directory', () => {
    const split = splitTiffPages(tiff, 10);
    expect(split.totalPages).toBe(3);
    expect(split.pages).toHaveLength(3);
    split.pages.forEach((page, i) => {
      const directory = page.readUInt32LE(4);
      const entries = page.readUInt16LE(directory);
      expect(page.readUInt16LE(directory + 2 + 0 * 12 + 8)).toBe(pages[i]?.width); // ImageWidth
      expect(page.readUInt32LE(directory + 2 + entries * 12)).toBe(0); // no next page
    });
    // The original is untouched.
    expect(tiff.readUInt32LE(4)).toBe(8);
  });

  it('stops at the page limit but counts every page', () => {
    const split = splitTiffPages(tiff, 2);
    expect(split.pages).toHaveLength(2);
    expect(split.totalPages).toBe(3);
  });

  it('returns a single page, or a file it cannot follow, whole', () => {
    const single = encodeTiff([grey(4, 4, 0)]);
    expect(splitTiffPages(single, 5)).toEqual({ pages: [single], totalPages: 1 });
    const looping = Buffer.from(tiff);
    // Point the last directory's "next" back at the first: a loop must not hang or duplicate pages.
    const first = looping.readUInt32LE(4);
    let directory = first;
    for (let i = 0; i < 2; i++) directory = looping.readUInt32LE(directory + 2 + looping.readUInt16LE(directory) * 12);
    looping.writeUInt32LE(first, directory + 2 + looping.readUInt16LE(directory) * 12);
    expect(splitTiffPages(looping, 10).totalPages).toBe(3);
    const truncated = tiff.subarray(0, 12);
    expect(splitTiffPages(truncated, 10)).toEqual({ pages: [truncated], totalPages: 1 });
  });
});

describe('raster', () => {
  it('unpacks 1-bit rows (set bit = white, rows padded to bytes)', () => {
    // 10 pixels wide → 2 bytes a row: row 0 = white×8 then black, white; row 1 all black.
    const data = new Uint8Array([0xff, 0b0100_0000, 0x00, 0x00]);
    const out = toGrey({ width: 10, height: 2, kind: IMAGE_KIND.GRAYSCALE_1BPP, data });
    expect([...out.subarray(0, 10)]).toEqual([255, 255, 255, 255, 255, 255, 255, 255, 0, 255]);
    expect([...out.subarray(10)]).toEqual(new Array(10).fill(0));
  });

  it('turns colour to grey and puts transparency on white paper', () => {
    const rgb = toGrey({ width: 2, height: 1, kind: IMAGE_KIND.RGB_24BPP, data: new Uint8Array([255, 0, 0, 0, 0, 255]) });
    expect([...rgb]).toEqual([76, 29]);
    const rgba = toGrey({ width: 2, height: 1, kind: IMAGE_KIND.RGBA_32BPP, data: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 255]) });
    expect([...rgba]).toEqual([255, 0]);
  });

  it('writes a binary PGM', () => {
    const pgm = rawImageToPgm({ width: 2, height: 1, kind: IMAGE_KIND.RGB_24BPP, data: new Uint8Array([0, 0, 0, 255, 255, 255]) });
    expect(pgm.equals(Buffer.concat([Buffer.from('P5\n2 1\n255\n'), Buffer.from([0, 255])]))).toBe(true);
  });

  it('refuses data that does not match its size or kind', () => {
    expect(() => toGrey({ width: 4, height: 4, kind: IMAGE_KIND.RGB_24BPP, data: new Uint8Array(10) })).toThrow(UnsupportedImageError);
    expect(() => toGrey({ width: 1, height: 1, kind: 9, data: new Uint8Array(4) })).toThrow(UnsupportedImageError);
    expect(() => toGrey({ width: 0, height: 1, kind: 2, data: new Uint8Array(0) })).toThrow(UnsupportedImageError);
    expect(() => encodePgm(2, 2, new Uint8Array(3))).toThrow(UnsupportedImageError);
  });
});
