// report.pdf for people who are not engineers: what was found, when, how sure, and why, with two
// plots drawn as vector graphics. Everything shown comes from the verified evidence statement.
import PDFDocument from 'pdfkit';
import { BOLD, FONT, MONO, registerReportFonts } from './report-fonts.js';
import type { CommittedRecord } from '../records/index.js';
import { describeOdds } from './statistics.js';
import { triggerPlot, weightPlot } from './report-plots.js';
import type { VerificationRecord } from '../records/index.js';

export interface ReportInput {
  readonly modelName: string;
  readonly modelId: string;
  readonly verification: VerificationRecord;
  readonly verificationIndex: number;
  readonly verificationTime: string;
  readonly committed: CommittedRecord;
  readonly commitmentIndex: number;
  readonly commitmentTime: string;
  readonly commitmentCheckpointSize: number;
  readonly markedTime?: string;
  readonly ownerKey: string;
  readonly logOrigin: string;
  readonly logKey: string;
  readonly checkpointSize: number;
  readonly timestamps: readonly { size: number; genTime: string; signer: string }[];
  /** Who signed the verification record the numbers come from (src/records), and as whom. */
  readonly recordSigner: { readonly key: string; readonly as: 'owner' | 'service'; readonly actor: string };
}

const INK = '#1d2733';
const MUTED = '#5b6673';
const ACCENT = '#b3261e';
const BAR = '#7a9cc6';
const M = 56;

function suspectText(v: VerificationRecord): string {
  return v.suspect.kind === 'file' ? `the file "${v.suspect.descriptor.name}" (SHA-256 ${v.suspect.descriptor.digest.sha256})` : `the service at ${v.suspect.url} (${v.suspect.protocol})`;
}

function heading(doc: PDFKit.PDFDocument, text: string): void {
  doc.moveDown(0.8).font(BOLD).fontSize(14).fillColor(INK).text(text).moveDown(0.3).font(FONT).fontSize(10.5);
}

function para(doc: PDFKit.PDFDocument, text: string): void {
  doc.font(FONT).fontSize(10.5).fillColor(INK).text(text, { align: 'left', lineGap: 2 }).moveDown(0.5);
}

/** Bars over [0, n] with a red marker line at `mark`; y scaled to the tallest bar. */
function plotBars(doc: PDFKit.PDFDocument, o: { x: number; y: number; w: number; h: number; values: number[]; xMin: number; xMax: number; mark: number; markLabel: string; xLabel: string; yLabel: string; title: string }): void {
  const { x, y, w, h } = o;
  doc.save();
  doc.font(BOLD).fontSize(10).fillColor(INK).text(o.title, x, y - 18, { width: w });
  doc.rect(x, y, w, h).lineWidth(0.5).strokeColor('#c5ccd4').stroke();
  const top = Math.max(...o.values, 1e-300);
  const span = o.xMax - o.xMin;
  const bw = w / o.values.length;
  o.values.forEach((v, i) => {
    const bh = (v / top) * (h - 8);
    if (bh > 0.05) doc.rect(x + i * bw + bw * 0.1, y + h - bh, Math.max(bw * 0.8, 0.4), bh).fillColor(BAR).fill();
  });
  const mx = x + ((o.mark - o.xMin) / span) * w;
  doc.moveTo(mx, y).lineTo(mx, y + h).lineWidth(1.5).strokeColor(ACCENT).stroke();
  const labelLeft = mx > x + w * 0.6;
  doc.font(BOLD).fontSize(8.5).fillColor(ACCENT).text(o.markLabel, labelLeft ? mx - 124 : mx + 4, y + 4, { width: 120, align: labelLeft ? 'right' : 'left' });
  doc.font(FONT).fontSize(8).fillColor(MUTED);
  for (let t = 0; t <= 4; t++) {
    const val = o.xMin + (span * t) / 4;
    doc.text(Number.isInteger(val) ? String(val) : val.toFixed(2), x + (w * t) / 4 - 20, y + h + 3, { width: 40, align: 'center' });
  }
  doc.text(o.xLabel, x, y + h + 15, { width: w, align: 'center' });
  doc.save().rotate(-90, { origin: [x - 10, y + h / 2] }).text(o.yLabel, x - 10 - h / 2, y + h / 2 - 10, { width: h, align: 'center' }).restore();
  doc.restore();
}

/** The owner's identity as the PDF's author: the name part of its verifier key (name+keyid+key). */
export function ownerIdentity(ownerKey: string): string {
  const name = ownerKey.split('+')[0] ?? '';
  return name.length > 0 ? name : 'the model owner';
}

export async function renderReportPdf(r: ReportInput): Promise<Uint8Array> {
  // PDF/A-2b: pdfkit writes the XMP metadata (title, author, dates, pdfaid) and an sRGB output intent;
  // every font is embedded (report-fonts.ts). The author is the owner's identity: its key name.
  const doc = new PDFDocument({
    size: 'A4', margin: M, pdfVersion: '1.7', subset: 'PDF/A-2b', tagged: false, displayTitle: true, lang: 'en',
    font: null as unknown as string, // no default Helvetica: PDF/A allows only embedded fonts
    info: { Title: `Hallmark ownership evidence: ${r.modelName}`, Author: ownerIdentity(r.ownerKey), Subject: `Verification ${r.verificationIndex} of ${r.logOrigin}`, Creator: 'Hallmark', Producer: 'Hallmark (pdfkit)', CreationDate: new Date(r.verificationTime), ModDate: new Date(r.verificationTime) },
  });
  registerReportFonts(doc);
  doc.font(FONT);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((ok) => doc.on('end', () => ok()));
  const v = r.verification;
  const width = doc.page.width - 2 * M;

  doc.font(BOLD).fontSize(20).fillColor(INK).text('Ownership evidence for a machine-learning model');
  doc.moveDown(0.2).font(FONT).fontSize(10).fillColor(MUTED).text(`Prepared from ledger entry ${r.verificationIndex} (${r.verificationTime}) of the log ${r.logOrigin}.`);

  heading(doc, 'Summary');
  const verdict = v.owned ? 'The watermark of our model was found in the suspect model.' : 'The watermark of our model was NOT found with the required certainty.';
  doc.rect(M, doc.y, width, 44).fillColor(v.owned ? '#fbeaea' : '#eef2f6').fill();
  doc.font(BOLD).fontSize(12).fillColor(v.owned ? ACCENT : INK).text(verdict, M + 10, doc.y + 8, { width: width - 20 });
  doc.font(FONT).fontSize(10).fillColor(INK).text(`Threshold: a chance explanation less likely than ${v.alpha} (1 in ${Math.round(1 / v.alpha).toLocaleString('en-US')}).`, M + 10, doc.y + 2, { width: width - 20 });
  doc.x = M;
  doc.y += 14;
  const method = v.method === 'both' ? 'both methods: reading its weights (white-box) and querying it (black-box)' : v.method === 'white-box' ? 'the white-box method (reading its weights)' : 'the black-box method (querying it)';
  para(doc, `Our model "${r.modelName}" carries a hidden signature, a watermark, that its owner placed in it before release. Its ledger id is ${r.modelId}. We examined ${suspectText(v)} with ${method}${v.backend ? `, run with ${v.backend}` : ''}.`);
  if (v.weight) para(doc, `Hidden bits in the weights: ${v.weight.matches} of ${v.weight.bits} bits match our signature (bit error rate ${(v.weight.ber * 100).toFixed(2)}%). A model that was never marked agrees on each bit by a coin toss; the chance of ${v.weight.matches} or more matches by luck is ${describeOdds(v.weight.pValue)} (p = ${v.weight.pValue.toExponential(2)}).`);
  para(doc, `Where these numbers come from: they are the verification record at ledger entry ${r.verificationIndex}, signed by the ${r.recordSigner.as === 'owner' ? "owner's" : 'verification service\'s'} key ${r.recordSigner.key.split('+').slice(0, 2).join('+')} (recorded by ${r.recordSigner.actor}). This report repeats that signed record; it does not re-measure the suspect. Running "hallmark evidence verify --suspect <file>" on the suspect file recomputes every number.`);
  if (v.trigger) para(doc, `Secret test inputs: the suspect gave our secret answer on ${v.trigger.matches} of ${v.trigger.n} specially made inputs. An unrelated model gives that answer about ${(v.trigger.chanceRate * 100).toFixed(1)}% of the time (${v.trigger.nullSource === 'calibrated' ? 'measured on independently trained models' : 'one in the number of classes'}); the chance of ${v.trigger.matches} or more by luck is ${describeOdds(v.trigger.pValue)} (p = ${v.trigger.pValue.toExponential(2)}).`);

  heading(doc, 'Timeline');
  const events: [string, string][] = [[r.commitmentTime, `The owner committed to the secret watermark (ledger entry ${r.commitmentIndex}), sealed into the log by the signed checkpoint of size ${r.commitmentCheckpointSize}.`]];
  if (r.markedTime) events.push([r.markedTime, 'The marked model was registered in the ledger.']);
  for (const t of r.timestamps) events.push([t.genTime, `An independent time-stamping authority (${t.signer}) certified the log of ${t.size} entries.`]);
  events.push([r.verificationTime, `The suspect was examined and the result recorded (ledger entry ${r.verificationIndex}).`]);
  events.sort((a, b) => a[0].localeCompare(b[0]));
  for (const [time, what] of events) {
    const y = doc.y;
    doc.font(BOLD).fontSize(9.5).fillColor(INK).text(time.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC'), M, y, { width: 130 });
    doc.font(FONT).fontSize(10).text(what, M + 140, y, { width: width - 140 });
    doc.moveDown(0.4);
  }
  doc.x = M;
  para(doc, 'The commitment was recorded before the suspect was examined, so the watermark could not have been chosen to fit the suspect. The ledger is append-only: each record is chained to the one before it and sealed by signatures, so none can be changed or back-dated without detection.');

  doc.addPage();
  heading(doc, 'The statistics, in plain words');
  para(doc, 'Each plot shows what an innocent model would score by luck (blue bars: taller means more likely) and what the suspect scored (red line). The further the red line sits from the bars, the less plausible it is that the match is a coincidence.');
  let y = doc.y + 30;
  // The plot data is shared with the console's SVG plots (report-plots.ts).
  for (const plot of [weightPlot(v), triggerPlot(v)]) {
    if (!plot) continue;
    plotBars(doc, { x: M + 28, y, w: width - 40, h: 150, ...plot });
    y += 215;
  }
  doc.x = M;
  doc.y = y - 20;
  para(doc, `Decision rule, fixed in advance: we call the suspect ours only if a chance explanation is less likely than ${v.alpha}. ${v.owned ? 'That rule is met.' : 'That rule is not met.'}`);

  doc.addPage();
  heading(doc, 'How anyone can check this');
  para(doc, 'This report is a reading aid. The proof is evidence.json, signed by the owner, beside this file. VERIFY.md explains, step by step, how an independent expert re-checks every signature, every ledger proof, the commitment and, given the suspect file, the watermark itself, using only public keys.');
  doc.font(MONO).fontSize(8).fillColor(INK);
  for (const [k, val] of [['owner key', r.ownerKey], ['log', r.logOrigin], ['log key', r.logKey], ['checkpoint', `size ${r.checkpointSize}`], ['commitment', v.commitment.commitment]] as const) {
    doc.font(BOLD).fontSize(9).text(k, { continued: false }).font(MONO).fontSize(8).text(val, { width }).moveDown(0.3);
  }
  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}
