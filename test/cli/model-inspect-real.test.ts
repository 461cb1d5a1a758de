// `hallmark model inspect` on real files from npm, with no home anywhere: it needs none, and the id
// of a single-file model is the file's SHA-256 (as sha256sum computes it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hallmark } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';

describe('model inspect without a home', () => {
  it('reads the real silero ONNX (Constants in If branches) with HALLMARK_HOME pointing nowhere; id = sha256sum', () => {
    const file = join(REPO, 'fixtures/real/silero-vad-v5/silero_vad_v5.onnx');
    const nowhere = join(mkdtempSync(join(tmpdir(), 'no-home-')), 'missing');
    const r = hallmark(['model', 'inspect', file, '--json'], { env: { HALLMARK_HOME: nowhere } });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { id: string; digest: string; tensors: unknown[]; registered: unknown };
    const sum = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]!;
    expect(out.digest).toBe(sum);
    expect(out.id).toContain(sum);
    expect(out.tensors.length).toBeGreaterThan(50);
    expect(out.registered).toBeNull();
  });

  it('names the TF.js Graph model format', () => {
    const r = hallmark(['model', 'inspect', join(REPO, 'fixtures/real/human-emotion/emotion.json'), '--json'], { env: { HALLMARK_HOME: join(tmpdir(), 'definitely-not-a-home-xyz') } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'tfjs-graph', mediaType: 'application/vnd.tensorflowjs.graph-model+json' });
  });
});
