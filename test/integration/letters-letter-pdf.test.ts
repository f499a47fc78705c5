/**
 * Printable letters: rendered with pdf-lib, then read back through the real PDF reader (unpdf / PDF.js) to
 * check that what a customer will read is really on the page.
 */
import { decodePDFRawStream, PDFArray, PDFDocument, PDFRawStream } from 'pdf-lib';

import { BODY_PT, renderLetterPdf, renderLetterText, type Letter } from '../../channels/letters/letter-pdf';
import { extractPdfText } from '../../channels/letters/pdf-text';
import { letterAcknowledgement, restrictionNotification } from '../../config/letter-templates';
import { knownWords } from '../fixtures/letters/pdfs';
import { letterOf, NOTIFICATION } from '../fixtures/letters/sample-letters';

const oneLine = (text: string): string => text.replace(/\s+/g, ' ');

/** Every font size set (`Tf`) in the content streams of a PDF. */
async function fontSizes(pdf: Buffer): Promise<number[]> {
  const doc = await PDFDocument.load(pdf);
  const sizes: number[] = [];
  for (const page of doc.getPages()) {
    const contents = page.node.Contents();
    const streams = contents instanceof PDFArray ? contents.asArray().map((ref) => doc.context.lookup(ref)) : [contents];
    for (const stream of streams) {
      if (!(stream instanceof PDFRawStream)) continue;
      const ops = Buffer.from(decodePDFRawStream(stream).decode()).toString('latin1');
      for (const m of ops.matchAll(/\/\S+ (\d+(?:\.\d+)?) Tf/g)) sizes.push(Number(m[1]));
    }
  }
  return sizes;
}

describe('the restriction notification letter', () => {
  const letter = letterOf(restrictionNotification(NOTIFICATION));
  let standard: Buffer;
  let text: string;
  let pages: number;

  beforeAll(async () => {
    standard = await renderLetterPdf(letter);
    const read = await extractPdfText(standard);
    text = oneLine(read.text);
    pages = read.totalPages;
  });

  it('is an A4 PDF, in English, titled', async () => {
    const doc = await PDFDocument.load(standard);
    const { width, height } = doc.getPage(0).getSize();
    expect(Math.round(width)).toBe(595);
    expect(Math.round(height)).toBe(842);
    expect(doc.getTitle()).toBe('Changes to how you can contact us');
  });

  it('carries every required part on the page', () => {
    expect(text).toContain('Why we have made this decision');
    expect(text).toContain('212 times'); // the behaviour
    expect(text).toContain('between 10am and 12 noon'); // each restriction
    expect(text).toContain('500 words or fewer');
    expect(text).toContain('once a week, on Fridays');
    expect(text).toContain('from 1 April 2026'); // from when
    expect(text).toContain('by 1 October 2026'); // review date
    expect(text).toContain('Jane Smith (Tenancy Specialist) will be your single point of contact'); // SPOC
    expect(text).toContain('0300 500 8080 at any time'); // emergencies, always open
    expect(text).toContain('always open');
    expect(text).toContain('in writing to Tenancy Specialist Manager'); // appeal: to whom
    expect(text).toContain('appeals@example.org'); // how
    expect(text).toContain('by Wednesday 29 April 2026'); // by when
    expect(text).toContain('Housing Ombudsman Service'); // ombudsman
    expect(text).toContain('https://www.example.org/privacy'); // privacy notice
  });

  it('has the addresses, date, reference, greeting and sign-off, and prints names it cannot encode legibly', () => {
    expect(text).toContain('Tenancy Specialist Team Example Housing PO Box 1');
    expect(text).toContain('Ms Lucja Nowak Flat 3 12 High Street London E1 1AA');
    expect(text).toContain('1 April 2026 Our reference: R-01HX');
    expect(text).toContain('Dear Ms Lucja Nowak,');
    expect(text).toMatch(/Yours sincerely, Jane Smith Tenancy Specialist Team/);
  });

  it('numbers every page "Page n of N"', () => {
    expect(pages).toBeGreaterThanOrEqual(2);
    for (let n = 1; n <= pages; n++) expect(text).toContain(`Page ${n} of ${pages}`);
  });

  it('has a large-print variant at 16 pt or more, which takes more pages', async () => {
    const large = await renderLetterPdf({ ...letter, largePrint: true });
    const standardSizes = await fontSizes(standard);
    const largeSizes = await fontSizes(large);
    expect(Math.min(...largeSizes)).toBeGreaterThanOrEqual(16);
    expect(largeSizes).toContain(BODY_PT.largePrint);
    expect(standardSizes).toContain(BODY_PT.standard);
    expect(Math.max(...standardSizes)).toBeLessThan(16);
    const read = await extractPdfText(large);
    expect(read.totalPages).toBeGreaterThan(pages);
    expect(oneLine(read.text)).toContain('by Wednesday 29 April 2026');
  });
});

describe('layout', () => {
  it('wraps long paragraphs across pages without losing or reordering a word', async () => {
    const source = Array.from({ length: 12 }, (_, i) => knownWords(120, i * 120));
    const letter: Letter = letterOf({ title: 'A long letter', paragraphs: source.map((w) => w.join(' ')) });
    const read = await extractPdfText(await renderLetterPdf(letter));
    expect(read.totalPages).toBeGreaterThanOrEqual(4);
    const body = read.text.split(/\s+/).filter((w) => /^[a-z]+\d+$/.test(w));
    expect(body).toEqual(source.flat());
    for (let n = 1; n <= read.totalPages; n++) expect(read.text).toContain(`Page ${n} of ${read.totalPages}`);
  });

  it('breaks a word longer than the line rather than running off the page', async () => {
    const url = `https://www.example.org/${'very-long-path-segment/'.repeat(8)}privacy`;
    const read = await extractPdfText(await renderLetterPdf(letterOf({ title: 'Link', paragraphs: [`See ${url}`] })));
    expect(read.text.replace(/\s+/g, '')).toContain(url);
    expect(read.text).not.toContain(url); // it did have to be broken
  });

  it('renders headings and bullet lists without their markers', async () => {
    const letter = letterOf({ title: 'Lists', paragraphs: ['## What happens next', 'Things:\n• first thing\n- second thing'] });
    const text = (await extractPdfText(await renderLetterPdf(letter))).text;
    expect(text).toContain('What happens next');
    expect(text).not.toContain('##');
    expect(text).toMatch(/•\s*first thing/);
    expect(text).toMatch(/•\s*second thing/);
  });

  it('renders an acknowledgement letter without a sender or reference', async () => {
    const content = letterAcknowledgement({ receivedOn: '3 March 2026', emergencyNumber: '0300 500 8080', wordLimit: { limit: 500, words: 812, exceeded: true } });
    const letter: Letter = { to: { name: 'Mr A Customer' }, date: '4 March 2026', ...content };
    const text = oneLine((await extractPdfText(await renderLetterPdf(letter))).text);
    expect(text).toContain('We have received your letter');
    expect(text).toContain('first 500 words of your letter only');
    expect(text).toContain('Page 1 of 1');
    expect(renderLetterText(letter)).toContain('Dear Mr A Customer,');
  });
});
