// report.pdf for a guard-mark claim (guard-section.ts): which client's answers the suspect
// reproduces, how many marks, how often, against what chance rate, and the p-value, in plain
// words, with the timeline of the commitments. Numbers come from the signed verification record.
import PDFDocument from 'pdfkit';
import type { GuardVerificationRecord } from '../records/index.js';
import { BOLD, FONT, MONO, registerReportFonts } from './report-fonts.js';
import { ownerIdentity } from './report-pdf.js';
import { describeOdds } from './statistics.js';

export interface GuardReportInput {
  readonly verification: GuardVerificationRecord;
  readonly verificationIndex: number;
  readonly verificationTime: string;
  /** The clients whose sets the bundle reveals (the claim). */
  readonly claimed: readonly string[];
  readonly commitments: readonly { client: string; index: number; time: string; period: { from: string; to: string } }[];
  readonly ownerKey: string;
  readonly logOrigin: string;
  readonly logKey: string;
  readonly checkpointSize: number;
  readonly recordSigner: { readonly key: string; readonly as: 'owner' | 'service'; readonly actor: string };
}

const INK = '#1d2733';
const MUTED = '#5b6673';
const ACCENT = '#b3261e';
const M = 56;

/** One sentence per claimed client: set size, agreement, chance rate, p-value. */
export function guardClaimText(v: GuardVerificationRecord, client: string): string {
  const c = v.guard.clients.find((x) => x.client === client)!;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return `API client ${c.client}: the guard answered ${c.n} of this client's queries with deliberately wrong labels (its watermark set, committed at ledger entry ${c.commitment.index}). The suspect gives those same wrong labels on ${c.matches} of ${c.n} (agreement ${pct(c.matches / c.n)}). A model never trained on this client's answers gives them about ${pct(c.chanceRate)} of the time (${c.nullSource === 'calibrated' ? `measured on independently trained models, ledger entry ${c.calibration}` : `at most one in ${c.classes - 1}, the number of other classes`}); the chance of ${c.matches} or more by luck is ${describeOdds(c.pValue)} (p = ${c.pValue.toExponential(2)}).`;
}

export async function renderGuardReportPdf(r: GuardReportInput): Promise<Uint8Array> {
  const v = r.verification;
  const doc = new PDFDocument({
    size: 'A4', margin: M, pdfVersion: '1.7', subset: 'PDF/A-2b', tagged: false, displayTitle: true, lang: 'en',
    font: null as unknown as string,
    info: { Title: 'Hallmark ownership evidence: guard marks', Author: ownerIdentity(r.ownerKey), Subject: `Verification ${r.verificationIndex} of ${r.logOrigin}`, Creator: 'Hallmark', Producer: 'Hallmark (pdfkit)', CreationDate: new Date(r.verificationTime), ModDate: new Date(r.verificationTime) },
  });
  registerReportFonts(doc);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((ok) => doc.on('end', () => ok()));
  const width = doc.page.width - 2 * M;
  const heading = (t: string) => doc.moveDown(0.8).font(BOLD).fontSize(14).fillColor(INK).text(t).moveDown(0.3);
  const para = (t: string) => doc.font(FONT).fontSize(10.5).fillColor(INK).text(t, { lineGap: 2 }).moveDown(0.5);

  doc.font(BOLD).fontSize(20).fillColor(INK).text('Ownership evidence: a model copied through its API');
  doc.moveDown(0.2).font(FONT).fontSize(10).fillColor(MUTED).text(`Prepared from ledger entry ${r.verificationIndex} (${r.verificationTime}) of the log ${r.logOrigin}.`);
  heading('Summary');
  doc.font(BOLD).fontSize(12).fillColor(v.owned ? ACCENT : INK).text(v.owned ? 'The suspect reproduces the wrong answers our guard gave to one client: it was trained on that client\'s answers.' : 'The guard\'s watermark was NOT found with the required certainty.');
  doc.moveDown(0.5);
  const suspect = v.suspect.kind === 'file' ? `the file "${v.suspect.descriptor.name}" (SHA-256 ${v.suspect.descriptor.digest.sha256})` : `the service at ${v.suspect.url} (${v.suspect.protocol})`;
  para(`Our model is served behind a guard that answers a small, secret, per-client fraction of queries with a wrong label. A model distilled from those answers learns the wrong labels; an independent model almost never gives them. We queried ${suspect} with the marked inputs.`);
  for (const client of r.claimed) para(guardClaimText(v, client));
  para(`Decision rule, fixed in advance: owned only if ${v.guard.tests} x the smallest p-value (the Bonferroni correction over the ${v.guard.tests} client(s) tested) is below ${v.alpha}. Here it is ${v.guard.familyPValue.toExponential(2)}: ${v.owned ? 'the rule is met' : 'the rule is not met'}.`);
  para(`These numbers are the verification record at ledger entry ${r.verificationIndex}, signed by the ${r.recordSigner.as === 'owner' ? "owner's" : "verification service's"} key ${r.recordSigner.key.split('+').slice(0, 2).join('+')} (recorded by ${r.recordSigner.actor}). "hallmark evidence verify --suspect <file>" re-runs the queries.`);
  heading('Timeline');
  const events: [string, string][] = r.commitments.map((c) => [c.time, `The guard committed client ${c.client}'s watermark set (marks given ${c.period.from} to ${c.period.to}) to the ledger (entry ${c.index}).`]);
  events.push([r.verificationTime, `The suspect was examined and the result recorded (ledger entry ${r.verificationIndex}).`]);
  events.sort((a, b) => a[0].localeCompare(b[0]));
  for (const [time, what] of events) para(`${time.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}: ${what}`);
  para('The set was committed before the suspect was examined, so the marks could not have been chosen to fit the suspect. The bundle reveals this client\'s marked inputs and the labels given; each opens against the committed root.');
  heading('How anyone can check this');
  para('The proof is evidence.json, signed by the owner, beside this file; VERIFY.md explains how to re-check it.');
  for (const [k, val] of [['owner key', r.ownerKey], ['log', r.logOrigin], ['log key', r.logKey], ['checkpoint', `size ${r.checkpointSize}`]] as const) {
    doc.font(BOLD).fontSize(9).fillColor(INK).text(k).font(MONO).fontSize(8).text(val, { width }).moveDown(0.3);
  }
  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}
