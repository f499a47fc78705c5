/**
 * Scanned letters through real local OCR (tesseract.js with the npm English model). OCR is slow on a small
 * machine, so one engine serves the whole file and each case OCRs as little as it can. The images are
 * rendered from a bitmap font by the fixture generator, so the text on them is known; assertions look for
 * key words, not exact text.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { extractLetterText } from '../../channels/letters/extract';
import { OcrEngine, tesseractOptions } from '../../channels/letters/ocr';
import { findCustomerReference } from '../../channels/letters/reference';
import { scannedPdf } from '../fixtures/letters/pdfs';
import { encodePng, encodeTiff, renderText, type GreyImage } from '../fixtures/letters/text-image';

const LETTER = renderText(['GAS LEAK IN THE KITCHEN', 'CUSTOMER REFERENCE C12345', 'WATER THROUGH THE CEILING']);
const ocr = new OcrEngine();

afterAll(async () => {
  await ocr.terminate();
});

const pdf = (content: Buffer) => ({ filename: 'scan.pdf', contentType: 'application/pdf', content });

describe('OCR of scanned letters', () => {
  it('uses only local files: the worker from node_modules and the npm English model, no cache written', () => {
    const options = tesseractOptions();
    const nodeModules = path.resolve(__dirname, '../../node_modules');
    expect(options.workerPath.startsWith(nodeModules)).toBe(true);
    expect(existsSync(options.workerPath)).toBe(true);
    expect(existsSync(path.join(options.langPath, 'eng.traineddata.gz'))).toBe(true);
    expect(options.cacheMethod).toBe('none');
    expect(JSON.stringify(options)).not.toMatch(/https?:/);
  });

  it('OCRs an image-only PDF behind a typed cover sheet, page by page, and finds the reference', async () => {
    const content = await scannedPdf([LETTER], { coverText: 'Scanned by the bureau: one letter received in the post today for housing.', stamp: 'SCAN 42' });
    const result = await extractLetterText(pdf(content), {}, { ocr });
    expect(result).toMatchObject({ method: 'ocr', pages: 2, totalPages: 2, needsManualCount: false, problems: [] });
    // Pages are separated by a blank line: the cover's text layer first, then the OCR of the scan.
    const cover = result.text.slice(0, result.text.indexOf('\n\n'));
    const scan = result.text.slice(cover.length);
    expect(cover).toContain('Scanned by the bureau');
    for (const word of ['GAS', 'LEAK', 'KITCHEN', 'CEILING', 'C12345']) expect(scan).toContain(word);
    expect(result.ocrConfidence).toBeGreaterThanOrEqual(60);
    expect(findCustomerReference(result.text)).toBe('C12345');
  });

  it('OCRs a black-and-white (1-bit) scan, as letter scanners store pages', async () => {
    const result = await extractLetterText(pdf(await scannedPdf([LETTER], { bilevel: true })), {}, { ocr });
    expect(result).toMatchObject({ method: 'ocr', pages: 1, needsManualCount: false });
    for (const word of ['KITCHEN', 'WATER', 'CEILING']) expect(result.text).toContain(word);
  });

  it('OCRs a PNG attachment', async () => {
    const result = await extractLetterText({ filename: 'letter.png', contentType: 'image/png', content: encodePng(LETTER) }, {}, { ocr });
    expect(result).toMatchObject({ method: 'ocr', pages: 1, totalPages: 1, needsManualCount: false });
    for (const word of ['GAS', 'KITCHEN', 'C12345']) expect(result.text).toContain(word);
  });

  it('keeps text that OCR is unsure of, but does not trust its word count', async () => {
    const png = { filename: 'letter.png', contentType: 'image/png', content: encodePng(LETTER) };
    const result = await extractLetterText(png, { minOcrConfidence: 100 }, { ocr });
    expect(result).toMatchObject({ method: 'ocr', needsManualCount: true, problems: ['ocr-low-confidence'] });
    expect(result.text).toContain('KITCHEN');
  });

  it('OCRs every page of a multi-page TIFF, up to the page limit', async () => {
    const second = renderText(['SECOND PAGE ABOUT THE BATHROOM']);
    const third = renderText(['THIRD PAGE ABOUT THE GARDEN']);
    const tiff = { filename: 'letter.tif', contentType: 'image/tiff', content: encodeTiff([LETTER, second, third]) };
    const result = await extractLetterText(tiff, { maxPages: 2 }, { ocr });
    expect(result).toMatchObject({ method: 'ocr', pages: 2, totalPages: 3, truncated: true, needsManualCount: true, problems: ['page-limit'] });
    expect(result.text).toContain('KITCHEN');
    expect(result.text).toContain('BATHROOM');
    expect(result.text).not.toContain('GARDEN');
  });

  it('flags a scan it cannot read (noise) for a manual count rather than counting it', async () => {
    let seed = 42;
    const noise: GreyImage = { width: 240, height: 120, pixels: new Uint8Array(240 * 120) };
    for (let i = 0; i < noise.pixels.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      noise.pixels[i] = seed % 7 === 0 ? 0 : 255;
    }
    const result = await extractLetterText({ filename: 'blot.png', contentType: 'image/png', content: encodePng(noise) }, {}, { ocr });
    expect(result.needsManualCount).toBe(true);
    expect(result.problems.some((p) => p === 'no-text' || p === 'ocr-low-confidence')).toBe(true);
  });

  it('stops OCR at the time limit, terminates the worker, and flags the letter; the engine then recovers', async () => {
    const big = renderText(Array.from({ length: 12 }, () => 'GAS LEAK IN THE KITCHEN AND WATER THROUGH THE CEILING'));
    const timedOut = await extractLetterText({ filename: 'big.png', contentType: 'image/png', content: encodePng(big) }, { timeoutMs: 5 }, { ocr });
    expect(timedOut).toMatchObject({ method: 'none', text: '', needsManualCount: true });
    expect(timedOut.problems).toContain('ocr-timeout');

    const after = await ocr.recognize(encodePng(LETTER), 20_000);
    expect(after.text).toContain('KITCHEN');
  });
});
