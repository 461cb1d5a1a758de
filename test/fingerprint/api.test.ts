// POST /v1/fingerprints: role-gated like embedding (admin, engineer), validated strictly, and it
// refuses models that were never uploaded; verify jobs accept a `fingerprint` option.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, makeTestApi, type TestApi } from '../api/helpers.js';

describe('fingerprint API', () => {
  let t: TestApi;
  beforeAll(() => {
    t = makeTestApi();
  });
  afterAll(() => t?.dispose());
  const post = (role: 'admin' | 'engineer' | 'verifier' | 'auditor' | 'client', body: unknown) =>
    t.req('/v1/fingerprints', { role, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const modelId = `model:sha256:${'ab'.repeat(32)}`;

  it('only admin and engineer may generate; others are 403 and nothing is queued or written', async () => {
    const size = t.home.ledger.size();
    for (const role of ['verifier', 'auditor', 'client'] as const) {
      const res = await post(role, { modelId });
      expect(res.status, role).toBe(403);
    }
    expect(t.home.ledger.size()).toBe(size);
  });

  it('bad bodies are 400 and an unknown model is 404', async () => {
    for (const body of [{ modelId: 'nope' }, { modelId, n: 5 }, { modelId, epsilon: 2 }, { modelId, extra: 1 }]) {
      const res = await post('engineer', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const res = await post('engineer', { modelId });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toMatch(/model/);
  });

  it('the OpenAPI document lists the route and the verify option', async () => {
    const res = await t.req('/openapi.json', { role: 'engineer' });
    const doc = JSON.stringify(await res.json());
    expect(doc).toContain('/v1/fingerprints');
    expect(doc).toContain('FingerprintRequest');
    expect(doc).toMatch(/"fingerprint":\{/);
  });
});
