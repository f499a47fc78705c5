/**
 * The source of the thread that opens untrusted PDFs.
 *
 * Why a thread: a malformed or hostile PDF can keep PDF.js busy in synchronous parsing for as long as it
 * likes, and a promise timeout cannot interrupt that. In a worker thread the time limit is real
 * (`worker.terminate()`), the heap is capped (`resourceLimits`), and a crash stays in the thread.
 *
 * Why a string run with `eval: true` rather than a file: unpdf's CommonJS entry loads PDF.js with a real
 * `import()` of an ES module. Node runs that natively, but inside Jest's module sandbox it fails without
 * `--experimental-vm-modules`. A worker thread is plain Node whoever starts it, so the same code path runs in
 * production (tsc's CommonJS output) and under Jest (@swc/jest) — and a source string needs no build step to
 * copy a `.js` file next to the compiled output. The script is deliberately small: it only talks to PDF.js;
 * every decision (page limits, what counts as "no text", OCR) is made in typed code on the calling side.
 *
 * Protocol (one request at a time; `workerData.unpdfPath` is the absolute path of unpdf's CommonJS entry):
 * - `{ type: 'open', data: Uint8Array, maxPages }` → `{ type: 'text', totalPages, pages: string[] }`
 *   (the text layer of pages 1..min(maxPages, totalPages); a line break after each line of text)
 * - `{ type: 'images', page }` → `{ type: 'images', page, images: [{ width, height, kind, data }] }`
 *   (each distinct image XObject painted on that page, decoded by PDF.js; buffers are transferred)
 * - any failure → `{ type: 'error', name, message }`
 */
export const PDF_WORKER_SCRIPT = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const unpdf = require(workerData.unpdfPath);
let pdf = null;

async function open(message) {
  // verbosity 0: PDF.js's warnings about odd PDFs are expected with scans and would only be noise.
  pdf = await unpdf.getDocumentProxy(message.data, { verbosity: 0, isEvalSupported: false });
  const last = Math.min(pdf.numPages, message.maxPages);
  const pages = [];
  for (let n = 1; n <= last; n++) {
    const page = await pdf.getPage(n);
    const content = await page.getTextContent();
    let text = '';
    for (const item of content.items) {
      if (typeof item.str === 'string') text += item.str + (item.hasEOL ? '\n' : '');
    }
    pages.push(text);
    page.cleanup();
  }
  return [{ type: 'text', totalPages: pdf.numPages, pages }, []];
}

async function images(message) {
  const { OPS } = await unpdf.getResolvedPDFJS();
  const page = await pdf.getPage(message.page);
  const operators = await page.getOperatorList();
  const seen = new Set();
  const found = [];
  const transfer = [];
  for (let i = 0; i < operators.fnArray.length; i++) {
    if (operators.fnArray[i] !== OPS.paintImageXObject) continue;
    const key = operators.argsArray[i][0];
    if (seen.has(key)) continue;
    seen.add(key);
    const store = key.startsWith('g_') ? page.commonObjs : page.objs;
    const image = await new Promise((resolve) => store.get(key, resolve));
    if (!image || !image.data || !image.width || !image.height) continue;
    const data = new Uint8Array(image.data);
    found.push({ width: image.width, height: image.height, kind: image.kind, data });
    transfer.push(data.buffer);
  }
  page.cleanup();
  return [{ type: 'images', page: message.page, images: found }, transfer];
}

parentPort.on('message', (message) => {
  const run = message.type === 'open' ? open(message) : images(message);
  run.then(
    ([reply, transfer]) => parentPort.postMessage(reply, transfer),
    (error) => parentPort.postMessage({
      type: 'error',
      name: String((error && error.name) || 'Error'),
      message: String((error && error.message) || error),
    }),
  );
});
`;
