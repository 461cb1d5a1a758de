// report.pdf as an archive format (PDF/A-2b): fonts embedded, XMP metadata with the PDF/A
// identification, an sRGB output intent, title/author/creation date set; checked with poppler
// (pdffonts, pdfinfo) and qpdf, tools we did not write. In CI the tools are required (.ci/run
// installs them); elsewhere the test says it skipped.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderReportPdf, type ReportInput } from '../../src/evidence/index.js';

const TOOLS = ['/usr/bin/pdffonts', '/usr/bin/pdfinfo', '/usr/bin/qpdf'];
const haveTools = TOOLS.every((t) => existsSync(t));
if (!haveTools && process.env.CI) throw new Error(`CI must install poppler-utils and qpdf: missing ${TOOLS.filter((t) => !existsSync(t)).join(', ')}`);

const OWNER = 'hallmark.local/owner/acme-research+1a2b3c4d+AQ'; // only the name part is shown
const input = {
  modelName: 'mnist-cnn-marked — “release” 2026',
  modelId: `model:sha256:${'ab'.repeat(32)}`,
  verification: {
    schema: 'hallmark/verification.recorded/v1', model: `model:sha256:${'ab'.repeat(32)}`, owned: true, alpha: 1e-6, method: 'both', backend: 'onnxruntime-node',
    suspect: { kind: 'file', descriptor: { name: 'stolen.onnx', digest: { sha256: 'cd'.repeat(32) } } },
    weight: { bits: 64, matches: 63, ber: 1 / 64, pValue: 3.5e-18 },
    trigger: { n: 100, matches: 97, chanceRate: 0.1, pValue: 1e-90, nullSource: 'uniform' },
    commitment: { index: 3, commitment: 'ef'.repeat(32) },
  },
  verificationIndex: 9, verificationTime: '2026-11-30T12:00:00.000Z',
  committed: { schema: 'hallmark/watermark.committed/v1', model: `model:sha256:${'12'.repeat(32)}`, scheme: 'both', parameters: {}, commitment: 'ef'.repeat(32), ownerKey: OWNER },
  commitmentIndex: 3, commitmentTime: '2026-11-20T10:00:00.000Z', commitmentCheckpointSize: 4, markedTime: '2026-11-20T10:05:00.000Z',
  ownerKey: OWNER, logOrigin: 'hallmark.local/log/1234', logKey: 'hallmark.local/log/1234+deadbeef+AQ', checkpointSize: 10, timestamps: [],
  recordSigner: { key: OWNER, as: 'owner', actor: 'hallmark-verify' },
} as unknown as ReportInput;

describe.skipIf(!haveTools)('report.pdf is PDF/A-2b', () => {
  let pdf: string;
  beforeAll(async () => {
    pdf = join(mkdtempSync(join(tmpdir(), 'hallmark-pdfa-')), 'report.pdf');
    writeFileSync(pdf, await renderReportPdf(input));
  });

  it('embeds every font it uses (pdffonts)', () => {
    const rows = execFileSync('/usr/bin/pdffonts', [pdf], { encoding: 'utf8' }).trim().split('\n').slice(2);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows) expect(row).toMatch(/DejaVu/), expect(row.split(/\s+/).slice(-5, -4)[0]).toBe('yes');
  });

  it('has title, author (the owner identity), creation date and PDF/A identification in XMP (pdfinfo)', () => {
    const info = execFileSync('/usr/bin/pdfinfo', [pdf], { encoding: 'utf8' });
    expect(info).toMatch(/^Title:\s+Hallmark ownership evidence: mnist-cnn-marked/m);
    expect(info).toMatch(/^Author:\s+hallmark\.local\/owner\/acme-research$/m);
    expect(info).toMatch(/^CreationDate:\s+\S+/m);
    expect(info).toMatch(/^PDF version:\s+1\.7$/m);
    const meta = execFileSync('/usr/bin/pdfinfo', ['-meta', pdf], { encoding: 'utf8' });
    expect(meta).toMatch(/<pdfaid:part>2<\/pdfaid:part>/);
    expect(meta).toMatch(/<pdfaid:conformance>B<\/pdfaid:conformance>/);
    expect(meta).toMatch(/acme-research/);
  });

  it('is structurally sound with an sRGB output intent (qpdf)', () => {
    const check = spawnSync('/usr/bin/qpdf', ['--check', pdf], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/No syntax or stream encoding errors found/);
    const qdf = join(tmpdir(), `hallmark-pdfa-${process.pid}.qdf`);
    execFileSync('/usr/bin/qpdf', ['--qdf', '--object-streams=disable', pdf, qdf]);
    const text = execFileSync('/usr/bin/strings', [qdf], { encoding: 'utf8' });
    expect(text).toMatch(/\/OutputIntents/);
    expect(text).toMatch(/\/GTS_PDFA1/);
    expect(text).toMatch(/\/DestOutputProfile/);
    expect(text).not.toMatch(/\/BaseFont \/Helvetica|\/BaseFont \/Courier/);
  });
});
