// Lineage records against a real SQLite ledger. Digests of parameters are checked against
// node:crypto over the `canonicalize` package's RFC 8785 output, not against our own code.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateNoteKey, openLedger, type JsonObject, type Ledger } from '../../ledger/index.js';
import {
  DERIVED_SCHEMA, SLSA_PROVENANCE_V1, STATEMENT_TYPE, datasetIdFor, digestParameters, findDataset, findModel, formatLineage, lineageOf, modelIdFor,
  recordDerivation, registerDataset, registerModel, type DerivationRecord,
} from '../../src/lineage/index.js';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
let ledger: Ledger;
let t = Date.parse('2026-11-22T10:00:00Z');

beforeEach(() => {
  const key = generateNoteKey('test.local/lineage');
  ledger = openLedger(':memory:', { signerKey: key.signerKey, create: true, clock: () => new Date((t += 1000)) });
});
afterEach(() => ledger.close());

const model = (n: string) => ({ model: { name: n, digest: { sha256: hex(n) } }, format: 'tfjs-layers' });

describe('registration', () => {
  it('gives content-addressed ids and finds records again', () => {
    const ds = registerDataset(ledger, { dataset: { name: 'mnist', digest: { sha256: hex('mnist') }, uri: 'builtin:mnist' }, items: 10000 });
    expect(ds.record.id).toBe(`dataset:sha256:${hex('mnist')}`);
    const m = registerModel(ledger, { ...model('base'), tensors: { count: 8, root: hex('root') } });
    expect(m.record.id).toBe(`model:sha256:${hex('base')}`);
    expect(m.record.schema).toBe('hallmark/model.registered/v1');
    expect(findModel(ledger, m.record.id)?.index).toBe(m.index);
    expect(findDataset(ledger, ds.record.id)?.record.items).toBe(10000);
    expect(findModel(ledger, modelIdFor(hex('other')))).toBeUndefined();
    expect(ledger.get(m.index).entry.type).toBe('model.registered');
  });

  it('refuses a second registration of the same digest', () => {
    registerModel(ledger, model('a'));
    expect(() => registerModel(ledger, { ...model('a'), model: { name: 'renamed', digest: { sha256: hex('a') } } })).toThrow(expect.objectContaining({ code: 'LINEAGE_EXISTS' }));
    registerDataset(ledger, { dataset: { name: 'd', digest: { sha256: hex('d') } }, items: 1 });
    expect(() => registerDataset(ledger, { dataset: { name: 'd', digest: { sha256: hex('d') } }, items: 1 })).toThrow(expect.objectContaining({ code: 'LINEAGE_EXISTS' }));
  });

  it('rejects malformed ids and descriptors', () => {
    expect(() => findModel(ledger, 'model:sha256:abc')).toThrow(expect.objectContaining({ code: 'LINEAGE_INVALID' }));
    expect(() => findModel(ledger, `dataset:sha256:${hex('x')}`)).toThrow(/not a model id/);
    expect(() => registerModel(ledger, { model: { name: 'x', digest: { sha256: 'ABC' } }, format: 'onnx' })).toThrow(TypeError);
    expect(() => registerModel(ledger, { model: { name: '', digest: { sha256: hex('x') } }, format: 'onnx' })).toThrow(TypeError);
  });

  it('finds records past the first page of a long ledger', () => {
    ledger.appendBatch(Array.from({ length: 2500 }, (_, i) => ({ type: 'note.added', payload: { i } })));
    registerModel(ledger, model('late'));
    expect(findModel(ledger, modelIdFor(hex('late')))?.index).toBe(2500);
  });
});

describe('lineage.derived', () => {
  it('shapes the entry as an in-toto Statement with SLSA Provenance v1', () => {
    const ds = registerDataset(ledger, { dataset: { name: 'mnist', digest: { sha256: hex('mnist') } }, items: 10 });
    const base = registerModel(ledger, model('base'));
    const params = { lr: 0.001, epochs: 3, secretSeed: 'do not store' };
    const out = registerModel(ledger, {
      ...model('marked'),
      derivation: { operation: 'fine-tune', baseModels: [base.record.id], datasets: [ds.record.id], parameters: params, invocationId: 'run-1', startedOn: new Date('2026-11-22T09:00:00Z'), finishedOn: new Date('2026-11-22T09:05:00Z') },
    });
    const d = out.derivation!;
    expect(d.index).toBe(out.index + 1);
    const p = ledger.get(d.index).entry.payload as unknown as DerivationRecord;
    expect(p.schema).toBe(DERIVED_SCHEMA);
    expect(p.inputs).toEqual({ models: [base.record.id], datasets: [ds.record.id] });
    expect(p.outputs).toEqual([out.record.id]);
    // The digest is sha256 over RFC 8785 canonical JSON, computed here independently.
    expect(p.parametersDigest.sha256).toBe(hex(canonicalize(params) as string));
    expect(JSON.stringify(p)).not.toContain('do not store');
    const st = p.statement as Record<string, any>;
    expect(st._type).toBe(STATEMENT_TYPE);
    expect(st.predicateType).toBe(SLSA_PROVENANCE_V1);
    expect(st.subject).toEqual([{ name: 'marked', digest: { sha256: hex('marked') }, annotations: { 'hallmark.id': out.record.id, 'hallmark.role': 'output' } }]);
    expect(st.predicate.buildDefinition.externalParameters).toEqual({ operation: 'fine-tune', parameters: { digest: { sha256: p.parametersDigest.sha256 } } });
    expect(st.predicate.buildDefinition.resolvedDependencies.map((r: any) => r.annotations['hallmark.role'])).toEqual(['base-model', 'dataset']);
    expect(st.predicate.runDetails.metadata).toEqual({ invocationId: 'run-1', startedOn: '2026-11-22T09:00:00.000Z', finishedOn: '2026-11-22T09:05:00.000Z' });
    expect(typeof st.predicate.runDetails.builder.id).toBe('string');
  });

  it('parameter digests ignore key order and match an independent canonicaliser', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    fc.assert(fc.property(json, (v) => {
      const clean = JSON.parse(JSON.stringify(v)) as never;
      expect(digestParameters(clean)).toBe(hex(canonicalize(clean) as string));
    }), { numRuns: 300 });
    expect(digestParameters({ a: 1, b: [1, 2] })).toBe(digestParameters({ b: [1, 2], a: 1 }));
  });

  it('needs registered inputs and outputs', () => {
    registerModel(ledger, model('x'));
    expect(() => registerModel(ledger, { ...model('y'), derivation: { operation: 'fine-tune', baseModels: [modelIdFor(hex('nope'))] } })).toThrow(expect.objectContaining({ code: 'LINEAGE_NOT_FOUND' }));
    // Nothing was appended by the failed call.
    expect(findModel(ledger, modelIdFor(hex('y')))).toBeUndefined();
    expect(() => recordDerivation(ledger, { outputs: [modelIdFor(hex('nope'))], operation: 'train', baseModels: [modelIdFor(hex('x'))] })).toThrow(/not registered/);
    expect(() => recordDerivation(ledger, { outputs: [modelIdFor(hex('x'))], operation: 'Bad Op', datasets: [] , baseModels: []})).toThrow();
  });

  it('refuses a derivation that would loop', () => {
    const a = registerModel(ledger, model('a'));
    const b = registerModel(ledger, { ...model('b'), derivation: { operation: 'fine-tune', baseModels: [a.record.id] } });
    expect(() => recordDerivation(ledger, { outputs: [a.record.id], operation: 'fine-tune', baseModels: [b.record.id] })).toThrow(expect.objectContaining({ code: 'LINEAGE_INVALID' }));
    expect(() => recordDerivation(ledger, { outputs: [a.record.id], operation: 'fine-tune', baseModels: [a.record.id] })).toThrow();
  });
});

describe('lineageOf', () => {
  it('walks base models recursively with their datasets', () => {
    const ds = registerDataset(ledger, { dataset: { name: 'mnist', digest: { sha256: hex('mnist') } }, items: 10000 });
    const own = registerDataset(ledger, { dataset: { name: 'mine', digest: { sha256: hex('mine') } }, items: 50 });
    const g0 = registerModel(ledger, { ...model('g0'), derivation: { operation: 'train', datasets: [ds.record.id] } });
    const g1 = registerModel(ledger, { ...model('g1'), derivation: { operation: 'fine-tune', baseModels: [g0.record.id], datasets: [own.record.id] } });
    const other = registerModel(ledger, model('other'));
    const g2 = registerModel(ledger, { ...model('g2'), derivation: { operation: 'merge', baseModels: [g1.record.id, other.record.id] } });
    const tree = lineageOf(ledger, g2.record.id);
    expect(tree.registered?.name).toBe('g2');
    expect(tree.derivations).toHaveLength(1);
    const d = tree.derivations[0]!;
    expect(d.operation).toBe('merge');
    expect(d.baseModels.map((b) => b.registered?.name)).toEqual(['g1', 'other']);
    const g1n = d.baseModels[0]!;
    expect(g1n.derivations[0]!.datasets.map((x) => x.registered?.name)).toEqual(['mine']);
    const g0n = g1n.derivations[0]!.baseModels[0]!;
    expect(g0n.id).toBe(g0.record.id);
    expect(g0n.derivations[0]!.operation).toBe('train');
    expect(g0n.derivations[0]!.datasets[0]!.id).toBe(datasetIdFor(hex('mnist')));
    expect(g0n.derivations[0]!.baseModels).toEqual([]);
    const text = formatLineage(tree);
    for (const s of ['g2', 'merge', 'g1', 'fine-tune', 'g0', 'train', 'mnist', 'mine', 'other']) expect(text).toContain(s);
    expect(() => lineageOf(ledger, modelIdFor(hex('absent')))).toThrow(expect.objectContaining({ code: 'LINEAGE_NOT_FOUND' }));
  });

  it('terminates on a hand-made loop and marks it', () => {
    const a = registerModel(ledger, model('a'));
    const b = registerModel(ledger, { ...model('b'), derivation: { operation: 'fine-tune', baseModels: [a.record.id] } });
    // Forge the reverse edge directly, as anyone with append access could.
    const forged = JSON.parse(JSON.stringify(ledger.get(b.derivation!.index).entry.payload)) as JsonObject;
    forged.inputs = { models: [b.record.id], datasets: [] };
    forged.outputs = [a.record.id];
    ledger.append({ type: 'lineage.derived', payload: forged });
    const tree = lineageOf(ledger, b.record.id);
    expect(tree.derivations[0]!.baseModels[0]!.derivations[0]!.baseModels[0]).toMatchObject({ id: b.record.id, cycle: true });
  });

  it('rejects payload versions it does not know, naming the entry', () => {
    const a = registerModel(ledger, model('a'));
    const p = { ...(ledger.get(a.index).entry.payload as JsonObject), schema: 'hallmark/lineage.derived/v2' };
    const e = ledger.append({ type: 'lineage.derived', payload: p });
    expect(() => lineageOf(ledger, a.record.id)).toThrow(expect.objectContaining({ code: 'LINEAGE_UNSUPPORTED_VERSION', message: expect.stringContaining(`entry ${e.index}`) }));
    const m2 = { ...(ledger.get(a.index).entry.payload as JsonObject), schema: 'hallmark/model.registered/v9', id: modelIdFor(hex('z')) };
    ledger.append({ type: 'model.registered', payload: m2 });
    expect(() => findModel(ledger, modelIdFor(hex('z')))).toThrow(/v9.*upgrade hallmark/);
    ledger.append({ type: 'model.registered', payload: { id: modelIdFor(hex('q')) } });
    expect(() => findModel(ledger, modelIdFor(hex('q')))).toThrow(expect.objectContaining({ code: 'LINEAGE_BAD_ENTRY' }));
  });
});
