import { deflateSync } from 'node:zlib';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { extractLetterText } from '../../channels/letters/extract';
import { inflatedSizeWithin } from '../../channels/letters/pdf-inflation';

/** A minimal PDF whose one object is a Flate stream of `bytes` zeros (a few KB on disk). */
function bomb(bytes: number): Buffer {
  const packed = deflateSync(Buffer.alloc(bytes));
  return Buffer.concat([
    Buffer.from(`%PDF-1.4\n1 0 obj\n<< /Length ${packed.length} /Filter /FlateDecode >>\nstream\n`, 'latin1'),
    packed,
    Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1'),
  ]);
}

describe('PDF compression bombs', () => {
  it('measures what an ordinary letter inflates to', async () => {
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    doc.addPage().drawText('Dear Sir, my gutter is blocked. Yours, Pat (ref C1001)', { x: 50, y: 700, size: 12, font });
    const size = inflatedSizeWithin(await doc.save());
    expect(size).toBeGreaterThan(0);
  });

  it('stops at the per-stream and total limits without inflating further', () => {
    const pdf = bomb(80 * 1024 * 1024);
    expect(pdf.length).toBeLessThan(200 * 1024);
    expect(inflatedSizeWithin(pdf)).toBeUndefined();
    expect(inflatedSizeWithin(bomb(1024 * 1024), { maxStreamBytes: 2 * 1024 * 1024, maxTotalBytes: 512 * 1024 })).toBeUndefined();
    expect(inflatedSizeWithin(bomb(1024 * 1024))).toBe(1024 * 1024);
  });

  it('sends a bomb to a person for a manual count instead of reading it', async () => {
    const result = await extractLetterText({ filename: 'letter.pdf', contentType: 'application/pdf', content: bomb(80 * 1024 * 1024) });
    expect(result.needsManualCount).toBe(true);
    expect(result.method).toBe('none');
  });
});
