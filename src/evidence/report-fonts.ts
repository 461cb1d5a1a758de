// report.pdf embeds its fonts (PDF/A forbids the unembedded standard 14). DejaVu Sans and Mono come
// from the @fontsource packages (OFL/Bitstream Vera licence), as WOFF files that pdfkit's fontkit
// subsets into the document, so the PDF renders the same everywhere and archives as PDF/A-2b.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export const FONT = 'DejaVuSans';
export const BOLD = 'DejaVuSans-Bold';
export const MONO = 'DejaVuSansMono';

function fontFile(pkg: string, file: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), 'files', file);
}

/** Registers the three faces the report uses under FONT, BOLD and MONO. */
export function registerReportFonts(doc: PDFKit.PDFDocument): void {
  doc.registerFont(FONT, fontFile('@fontsource/dejavu-sans', 'dejavu-sans-latin-400-normal.woff'));
  doc.registerFont(BOLD, fontFile('@fontsource/dejavu-sans', 'dejavu-sans-latin-700-normal.woff'));
  doc.registerFont(MONO, fontFile('@fontsource/dejavu-mono', 'dejavu-mono-latin-400-normal.woff'));
}
