/**
 * The monthly report as PDF, printed by Chromium (Debian `chromium`, driven by playwright-core)
 * from the self-contained document: nothing is loaded from anywhere (the document's CSP forbids
 * it, and every request the page would make is refused here too). Where Chromium is not
 * installed the PDF is simply not offered; HTML, CSV and JSON always are.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';

/** Where Debian installs Chromium. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** True when a Chromium executable is there to print with. */
export function canPrintPdf(executable = DEFAULT_CHROMIUM): boolean {
  return fs.existsSync(executable);
}

/** PDFs kept by the hash of the document they print (a month's report is asked for again and again). */
const CACHE_ENTRIES = 8;
const cache = new Map<string, Buffer>();
/** One Chromium at a time: each costs a process tree and ~100 MB; requests beyond it wait their turn. */
let queue: Promise<unknown> = Promise.resolve();
const stats = { launched: 0, fromCache: 0, running: 0, maxRunning: 0 };

/** How many prints launched Chromium, how many were answered from the cache, the most run at once. */
export function pdfPrintStats(): Readonly<typeof stats> {
  return { ...stats };
}

/**
 * Prints a self-contained HTML document to an A4 PDF; null when Chromium is not installed. The same
 * document is printed once and then answered from a small cache; prints run one at a time.
 */
export async function printPdf(documentHtml: string, executable = DEFAULT_CHROMIUM): Promise<Buffer | null> {
  if (!canPrintPdf(executable)) return null;
  const key = crypto.createHash('sha256').update(executable).update('\0').update(documentHtml).digest('hex');
  const cached = cache.get(key);
  if (cached) {
    stats.fromCache++;
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const turn = queue.then(async () => {
    const again = cache.get(key);
    if (again) {
      stats.fromCache++;
      return again;
    }
    stats.running++;
    stats.maxRunning = Math.max(stats.maxRunning, stats.running);
    try {
      const pdf = await printOnce(documentHtml, executable);
      if (pdf) {
        cache.set(key, pdf);
        if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
      }
      return pdf;
    } finally {
      stats.running--;
    }
  });
  queue = turn.catch(() => undefined);
  return turn;
}

async function printOnce(documentHtml: string, executable: string): Promise<Buffer | null> {
  let chromium: typeof import('playwright-core').chromium;
  try {
    // A development dependency today: an install without it offers no PDF rather than failing.
    ({ chromium } = await import('playwright-core'));
  } catch {
    return null;
  }
  stats.launched++;
  const browser = await chromium.launch({ executablePath: executable, args: ARGS });
  try {
    const page = await browser.newPage({ javaScriptEnabled: false });
    // The document is self-contained: any request it would make is refused.
    await page.route('**/*', (route) => route.abort());
    await page.setContent(documentHtml, { waitUntil: 'load' });
    return await page.pdf({
      format: 'A4',
      printBackground: true,
      margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' },
    });
  } finally {
    await browser.close();
  }
}
