/**
 * Printable letters (acknowledgements by post, restriction notifications and their follow-ups) as A4 PDFs
 * made with pdf-lib, and the same letter as plain text for email and screen readers.
 *
 * Layout follows UK letter conventions and the RNIB's clear-print guidance: a sans-serif face (Helvetica),
 * 12 pt body text — 18 pt in the large-print variant (RNIB: 16–18 pt) —, generous line spacing, left-aligned
 * ragged-right text (never justified), bold rather than capitals or italics for emphasis, and the
 * recipient's address where a DL window envelope shows it. Every page is numbered "Page n of N".
 *
 * Paragraph conventions, so that templates stay plain `string[]`:
 * - a paragraph starting with `## ` is a subheading (bold, kept with the text after it);
 * - lines starting with `• ` or `- ` are bullet points with a hanging indent;
 * - any other line break inside a paragraph is kept (e.g. an address to write to).
 */
import { PDFDocument, PDFFont, PDFPage, StandardFonts, rgb } from 'pdf-lib';

/** A letter to a customer. Dates and references arrive already formatted for reading. */
export interface Letter {
  to: { name: string; address?: string[] };
  /** The letter's date as it should read, e.g. "27 November 2026". */
  date: string;
  reference?: string;
  title: string;
  paragraphs: string[];
  /** The RNIB large-print variant (18 pt). */
  largePrint?: boolean;
  /** The sender, printed top right and in the sign-off. */
  from?: { name: string; team: string; address: string[] };
}

/** Point sizes of a print variant. */
interface Style {
  body: number;
  title: number;
  heading: number;
  footer: number;
  lineGap: number;
}

/** Body text sizes: standard letters and the large-print variant. Exported so tests and callers can refer to them. */
export const BODY_PT = { standard: 12, largePrint: 18 } as const;

const STYLES: Record<'standard' | 'largePrint', Style> = {
  standard: { body: BODY_PT.standard, title: 14, heading: 13, footer: 10, lineGap: 1.4 },
  largePrint: { body: BODY_PT.largePrint, title: 22, heading: 20, footer: 16, lineGap: 1.5 },
};

const MM = 72 / 25.4;
const A4 = { width: 210 * MM, height: 297 * MM };
const MARGIN = { left: 25 * MM, right: 20 * MM, top: 20 * MM, bottom: 25 * MM };
/** Top of the address block, where a DL window envelope shows it. */
const ADDRESS_TOP = 50 * MM;
const INK = rgb(0, 0, 0);

const BULLET = /^(?:•|-)\s+/;
const HEADING = /^##\s+/;

/** Letters that do not decompose into a base letter and an accent, but have an obvious plain equivalent. */
const PLAIN_LETTERS: Readonly<Record<string, string>> = {
  Ł: 'L',
  ł: 'l',
  Đ: 'D',
  đ: 'd',
  Ħ: 'H',
  ħ: 'h',
  ı: 'i',
  Ŀ: 'L',
  ŀ: 'l',
  Ø: 'O',
  ø: 'o',
};

/**
 * Replaces what the standard PDF fonts cannot encode (they are WinAnsi: Western European letters and common
 * punctuation) with the nearest plain letter, else "?". "Łucja Őri" prints as "Lucja Ori" rather than
 * failing or losing letters: a name must stay recognisable. (Full Unicode would need an embedded TrueType
 * font, which the project does not ship.)
 */
function encodable(font: PDFFont): (text: string) => string {
  const supported = new Set(font.getCharacterSet());
  return (text) =>
    [...text.replace(/[\t\u00a0\u2007\u202f]/g, ' ').replace(/[\u2010\u2011]/g, '-')]
      .map((ch) => {
        const code = ch.codePointAt(0) ?? 0;
        if (supported.has(code)) return ch;
        const base = PLAIN_LETTERS[ch] ?? ch.normalize('NFKD').replace(/\p{M}/gu, '');
        return base.length > 0 && [...base].every((c) => supported.has(c.codePointAt(0) ?? 0)) ? base : '?';
      })
      .join('');
}

/** Splits text into lines no wider than `maxWidth`, breaking between words (inside a word only if it must). */
function wrap(text: string, font: PDFFont, size: number, maxWidth: number): string[] {
  const width = (s: string): number => font.widthOfTextAtSize(s, size);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/ +/).filter((w) => w.length > 0)) {
    const candidate = line ? `${line} ${word}` : word;
    if (width(candidate) <= maxWidth) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    line = word;
    // A word wider than the line (a long web address) is broken by characters.
    while (width(line) > maxWidth) {
      let cut = line.length - 1;
      while (cut > 1 && width(line.slice(0, cut)) > maxWidth) cut--;
      lines.push(line.slice(0, cut));
      line = line.slice(cut);
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Writes lines top-down across as many pages as it takes. */
class Writer {
  page: PDFPage;
  y: number;

  constructor(
    private readonly doc: PDFDocument,
    readonly fonts: { regular: PDFFont; bold: PDFFont },
    readonly style: Style,
    private readonly clean: (text: string) => string,
  ) {
    this.page = this.addPage();
    this.y = A4.height - MARGIN.top;
  }

  get textWidth(): number {
    return A4.width - MARGIN.left - MARGIN.right;
  }

  lineHeight(size: number): number {
    return size * this.style.lineGap;
  }

  private addPage(): PDFPage {
    return this.doc.addPage([A4.width, A4.height]);
  }

  /** Starts a new page unless `height` more points fit above the footer. */
  ensureRoom(height: number): void {
    const floor = MARGIN.bottom + this.style.footer * 2;
    if (this.y - height >= floor) return;
    this.page = this.addPage();
    this.y = A4.height - MARGIN.top;
  }

  /** One line of text at the current position; `marker` (a bullet) is drawn at the indent, the text after `hang`. */
  line(text: string, options: { size?: number; bold?: boolean; indent?: number; hang?: number; marker?: string; align?: 'left' | 'right' } = {}): void {
    const size = options.size ?? this.style.body;
    const font = options.bold ? this.fonts.bold : this.fonts.regular;
    const height = this.lineHeight(size);
    this.ensureRoom(height);
    this.y -= height;
    const clean = this.clean(text);
    const left = MARGIN.left + (options.indent ?? 0);
    const x = options.align === 'right' ? A4.width - MARGIN.right - font.widthOfTextAtSize(clean, size) : left + (options.hang ?? 0);
    // The baseline sits a little above the bottom of the line box, leaving the extra leading above the text.
    const baseline = this.y + size * 0.25;
    if (options.marker) this.page.drawText(options.marker, { x: left, y: baseline, size, font, color: INK });
    this.page.drawText(clean, { x, y: baseline, size, font, color: INK });
  }

  /** Text wrapped to the column, `hang` points in from the margin; `marker` (a bullet) hangs in the margin of the first line. */
  wrapped(text: string, options: { size?: number; bold?: boolean; hang?: number; marker?: string } = {}): void {
    const size = options.size ?? this.style.body;
    const font = options.bold ? this.fonts.bold : this.fonts.regular;
    const hang = options.hang ?? 0;
    const lines = wrap(this.clean(text), font, size, this.textWidth - hang);
    lines.forEach((l, i) => {
      this.line(l, { size, bold: options.bold, hang, ...(i === 0 && options.marker ? { marker: options.marker } : {}) });
    });
  }

  gap(lines = 0.6): void {
    this.y -= this.lineHeight(this.style.body) * lines;
  }
}

function writeParagraph(w: Writer, paragraph: string): void {
  if (HEADING.test(paragraph)) {
    const heading = paragraph.replace(HEADING, '');
    // Keep a heading with at least two lines of what follows it.
    w.ensureRoom(w.lineHeight(w.style.heading) + 2 * w.lineHeight(w.style.body));
    w.wrapped(heading, { size: w.style.heading, bold: true });
    w.gap(0.3);
    return;
  }
  const bulletIndent = w.style.body * 1.4;
  for (const raw of paragraph.split('\n')) {
    const text = raw.trim();
    if (text.length === 0) continue;
    if (BULLET.test(text)) {
      w.wrapped(text.replace(BULLET, ''), { hang: bulletIndent, marker: '•' });
    } else {
      w.wrapped(text);
    }
  }
  w.gap();
}

/**
 * Renders a letter as an A4 PDF: sender top right, recipient where a window envelope shows it, date,
 * reference, title, "Dear …", the paragraphs, sign-off, and "Page n of N" on every page.
 */
export async function renderLetterPdf(letter: Letter): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const fonts = { regular: await doc.embedFont(StandardFonts.Helvetica), bold: await doc.embedFont(StandardFonts.HelveticaBold) };
  const style = letter.largePrint ? STYLES.largePrint : STYLES.standard;
  const w = new Writer(doc, fonts, style, encodable(fonts.regular));

  doc.setTitle(letter.title, { showInWindowTitleBar: true });
  doc.setLanguage('en-GB');
  doc.setCreator('Gatekeeper');
  if (letter.from) doc.setAuthor(letter.from.team);
  if (letter.reference) doc.setSubject(`Reference ${letter.reference}`);

  if (letter.from) {
    for (const l of [letter.from.team, ...letter.from.address]) w.line(l, { align: 'right' });
  }
  w.y = Math.min(w.y, A4.height - ADDRESS_TOP);
  for (const l of [letter.to.name, ...(letter.to.address ?? [])]) w.line(l);
  w.gap(1.5);
  w.line(letter.date);
  if (letter.reference) w.line(`Our reference: ${letter.reference}`);
  w.gap(1);
  w.line(`Dear ${letter.to.name},`);
  w.gap();
  w.wrapped(letter.title, { size: style.title, bold: true });
  w.gap();
  for (const paragraph of letter.paragraphs) writeParagraph(w, paragraph);
  w.ensureRoom(w.lineHeight(style.body) * 4);
  w.line('Yours sincerely,');
  if (letter.from) {
    w.gap(1.5);
    w.line(letter.from.name, { bold: true });
    w.line(letter.from.team);
  }

  const pages = doc.getPages();
  pages.forEach((page, i) => {
    const label = `Page ${i + 1} of ${pages.length}${letter.reference ? `  ·  Reference ${letter.reference}` : ''}`;
    const width = fonts.regular.widthOfTextAtSize(label, style.footer);
    page.drawText(label, { x: (A4.width - width) / 2, y: MARGIN.bottom - style.footer, size: style.footer, font: fonts.regular, color: INK });
  });
  return Buffer.from(await doc.save());
}

/**
 * The same letter as plain text (for email bodies and screen readers): no layout, no hard line wrapping,
 * headings on their own line, bullet points as "- ".
 */
export function renderLetterText(letter: Letter): string {
  const blocks: string[] = [];
  if (letter.from) blocks.push([letter.from.team, ...letter.from.address].join('\n'));
  blocks.push([letter.to.name, ...(letter.to.address ?? [])].join('\n'));
  blocks.push([letter.date, ...(letter.reference ? [`Our reference: ${letter.reference}`] : [])].join('\n'));
  blocks.push(`Dear ${letter.to.name},`);
  blocks.push(letter.title);
  for (const paragraph of letter.paragraphs) {
    blocks.push(
      paragraph
        .replace(HEADING, '')
        .split('\n')
        .map((l) => l.trim().replace(BULLET, '- '))
        .filter((l) => l.length > 0)
        .join('\n'),
    );
  }
  blocks.push(letter.from ? `Yours sincerely,\n\n${letter.from.name}\n${letter.from.team}` : 'Yours sincerely,');
  return `${blocks.filter((b) => b.length > 0).join('\n\n')}\n`;
}
