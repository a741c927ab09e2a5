/**
 * The monthly report as PDF, printed by Chromium (Debian `chromium`, driven by playwright-core)
 * from the self-contained document: nothing is loaded from anywhere (the document's CSP forbids
 * it, and every request the page would make is refused here too). Where Chromium is not
 * installed the PDF is simply not offered; HTML, CSV and JSON always are.
 */
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

/** Prints a self-contained HTML document to an A4 PDF; null when Chromium is not installed. */
export async function printPdf(documentHtml: string, executable = DEFAULT_CHROMIUM): Promise<Buffer | null> {
  if (!canPrintPdf(executable)) return null;
  let chromium: typeof import('playwright-core').chromium;
  try {
    // A development dependency today: an install without it offers no PDF rather than failing.
    ({ chromium } = await import('playwright-core'));
  } catch {
    return null;
  }
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
