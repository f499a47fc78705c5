/**
 * Letters with a text layer, read through the real PDF reader thread (unpdf / PDF.js) — no OCR needed, so
 * none runs here. The PDFs are generated with pdf-lib with a known list of words.
 */
import { PDFDocument } from 'pdf-lib';

import { extractLetterText, type LetterAttachment } from '../../channels/letters/extract';
import { extractPdfText, PdfReader } from '../../channels/letters/pdf-text';
import { knownWords, textPdf } from '../fixtures/letters/pdfs';

const words = (text: string): string[] => text.split(/\s+/).filter((w) => w.length > 0);
const pdf = (content: Buffer, filename = 'letter.pdf'): LetterAttachment => ({ filename, contentType: 'application/pdf', content });

describe('extractLetterText — PDFs with a text layer', () => {
  it('reads every word of a three-page typed letter, in order', async () => {
    const pages = [knownWords(250), knownWords(180, 250), knownWords(70, 430)];
    const result = await extractLetterText(pdf(await textPdf(pages)));
    expect(result).toMatchObject({ method: 'pdf-text', pages: 3, totalPages: 3, truncated: false, needsManualCount: false, problems: [] });
    expect(words(result.text)).toEqual(pages.flat());
    expect(words(result.text)).toHaveLength(500);
    expect(result.ocrConfidence).toBeUndefined();
  });

  it('truncates a PDF over the page limit and flags it for a manual count', async () => {
    const pages = Array.from({ length: 25 }, (_, i) => knownWords(10, i * 10));
    const content = await textPdf(pages);

    const byDefault = await extractLetterText(pdf(content));
    expect(byDefault).toMatchObject({ method: 'pdf-text', pages: 20, totalPages: 25, truncated: true, needsManualCount: true });
    expect(byDefault.problems).toContain('page-limit');
    expect(words(byDefault.text)).toEqual(pages.slice(0, 20).flat());

    const limited = await extractLetterText(pdf(content), { maxPages: 3 });
    expect(limited).toMatchObject({ pages: 3, totalPages: 25, truncated: true, needsManualCount: true });
    expect(words(limited.text)).toHaveLength(30);
  });

  it('reads a PDF whatever it is labelled, and leaves the caller’s buffer intact', async () => {
    const content = await textPdf([knownWords(40)]);
    const copy = Buffer.from(content);
    const result = await extractLetterText({ filename: 'SCAN0001.bin', contentType: 'application/octet-stream', content });
    expect(result.method).toBe('pdf-text');
    expect(words(result.text)).toHaveLength(40);
    expect(content.equals(copy)).toBe(true);
  });

  it('flags a PDF that runs out of time, never counting it as zero words', async () => {
    const result = await extractLetterText(pdf(await textPdf([knownWords(100)])), { timeoutMs: 1 });
    expect(result).toMatchObject({ method: 'none', text: '', pages: 0, needsManualCount: true });
    expect(result.problems).toEqual(expect.arrayContaining(['pdf-timeout', 'no-text']));
  });

  it('flags a corrupt PDF', async () => {
    const result = await extractLetterText(pdf(Buffer.from('%PDF-1.7\nthis is not really a PDF at all\n%%EOF')));
    expect(result).toMatchObject({ method: 'none', needsManualCount: true });
    expect(result.problems).toContain('pdf-unreadable');
  });

  it('flags a blank PDF (no text, no images) without starting OCR', async () => {
    const doc = await PDFDocument.create();
    doc.addPage();
    doc.addPage();
    const result = await extractLetterText(pdf(Buffer.from(await doc.save())));
    expect(result).toMatchObject({ method: 'none', pages: 2, totalPages: 2, needsManualCount: true, problems: ['no-text'] });
  });

  it('refuses invalid limits as the caller’s bug', async () => {
    const content = await textPdf([['x']]);
    await expect(extractLetterText(pdf(content), { maxPages: 0 })).rejects.toThrow(RangeError);
    await expect(extractLetterText(pdf(content), { timeoutMs: Number.NaN })).rejects.toThrow(RangeError);
  });

  it('flags an attachment it cannot read at all', async () => {
    const docx = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(64)]);
    const result = await extractLetterText({ filename: 'letter.docx', contentType: 'application/octet-stream', content: docx });
    expect(result).toMatchObject({ method: 'none', pages: 0, needsManualCount: true });
    expect(result.problems).toEqual(['unsupported-type', 'no-text']);
  });
});

describe('PdfReader', () => {
  it('reports the text layer page by page and refuses pages it does not have', async () => {
    const reader = await PdfReader.open(await textPdf([['first', 'page'], ['second', 'page']]));
    try {
      expect(reader.totalPages).toBe(2);
      expect(reader.pages).toEqual([
        { number: 1, text: 'first page' },
        { number: 2, text: 'second page' },
      ]);
      await expect(reader.pageImages(1)).resolves.toEqual([]);
      await expect(reader.pageImages(3)).rejects.toThrow(RangeError);
    } finally {
      await reader.close();
    }
    await expect(reader.pageImages(1)).rejects.toMatchObject({ code: 'pdf-unreadable' });
  });

  it('rejects with typed errors: unreadable and timed out', async () => {
    await expect(extractPdfText(Buffer.from('not a pdf'))).rejects.toMatchObject({ name: 'PdfUnreadableError', code: 'pdf-unreadable' });
    await expect(extractPdfText(await textPdf([['x']]), { timeoutMs: 1 })).rejects.toMatchObject({ name: 'PdfTimeoutError', code: 'pdf-timeout' });
    await expect(extractPdfText(await textPdf([['x']]), { maxPages: 0 })).rejects.toThrow(RangeError);
  });
});
