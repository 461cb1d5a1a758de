import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectModelFormat, encodeSafetensors, readModelTensors, tensorFromFloat32, tensorToFloat32, writeModelTensors } from '../../src/formats/index.js';
import { B0, gemmReluModel, W0 } from './onnx-fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fmt-'));

function tfjsFolder(): string {
  const dir = tmp();
  const json = { modelTopology: { class_name: 'Sequential' }, format: 'layers-model', weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'd/kernel', shape: [2, 2], dtype: 'float32' }, { name: 'd/bias', shape: [2], dtype: 'float32' }] }] };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'w.bin'), Buffer.from(Float32Array.from([1, 2, 3, 4, 5, 6]).buffer));
  return dir;
}

describe('readModelTensors / writeModelTensors', () => {
  it('detects each format and reads its tensors', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'm.onnx'), gemmReluModel());
    writeFileSync(join(dir, 'm.safetensors'), encodeSafetensors([tensorFromFloat32('W', 'F16', [4, 3], Float32Array.from(W0))], { a: 'b' }));
    const tf = tfjsFolder();
    const onnx = await readModelTensors(join(dir, 'm.onnx'));
    expect(onnx.format).toBe('onnx');
    expect(Array.from(tensorToFloat32(onnx.tensors[1]!))).toEqual(Array.from(Float32Array.from(B0)));
    const st = await readModelTensors(join(dir, 'm.safetensors'));
    expect([st.format, st.tensors[0]!.dtype]).toEqual(['safetensors', 'F16']);
    expect(Array.from(tensorToFloat32(st.tensors[0]!))).toEqual(W0);
    for (const p of [tf, join(tf, 'model.json')]) {
      const t = await readModelTensors(p);
      expect([t.format, t.tensors.map((x) => x.name)]).toEqual(['tfjs-layers', ['d/kernel', 'd/bias']]);
    }
  });

  it('writes replaced tensors back in every format', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'm.onnx'), gemmReluModel());
    writeFileSync(join(dir, 'm.safetensors'), encodeSafetensors([tensorFromFloat32('W', 'F32', [2], Float32Array.from([1, 2])), tensorFromFloat32('V', 'F32', [1], Float32Array.from([9]))], { k: 'v' }));
    const newB = tensorFromFloat32('B', 'F32', [3], Float32Array.from([7, 8, 9]));
    await writeModelTensors(join(dir, 'm.onnx'), join(dir, 'n.onnx'), [newB]);
    expect(Array.from(tensorToFloat32((await readModelTensors(join(dir, 'n.onnx'))).tensors[1]!))).toEqual([7, 8, 9]);
    await writeModelTensors(join(dir, 'm.safetensors'), join(dir, 'n.safetensors'), [tensorFromFloat32('W', 'F32', [2], Float32Array.from([3, 4]))]);
    const st = (await readModelTensors(join(dir, 'n.safetensors'))).tensors;
    expect(st.map((t) => [t.name, Array.from(tensorToFloat32(t))])).toEqual([['W', [3, 4]], ['V', [9]]]);
    const out = join(tmp(), 'copy');
    await writeModelTensors(tfjsFolder(), out, [tensorFromFloat32('d/bias', 'F32', [2], Float32Array.from([0, -1]))]);
    expect(Array.from(tensorToFloat32((await readModelTensors(out)).tensors[1]!))).toEqual([0, -1]);
    await expect(writeModelTensors(join(dir, 'm.safetensors'), join(dir, 'x.safetensors'), [tensorFromFloat32('W', 'F32', [3], new Float32Array(3))])).rejects.toMatchObject({ code: 'FORMAT_SHAPE_MISMATCH' });
  });

  it('unknown or missing paths are typed errors', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'm.pt'), 'x');
    await expect(detectModelFormat(join(dir, 'm.pt'))).rejects.toMatchObject({ code: 'FORMAT_UNKNOWN' });
    await expect(detectModelFormat(dir)).rejects.toMatchObject({ code: 'FORMAT_UNKNOWN' });
    await expect(readModelTensors(join(dir, 'none.onnx'))).rejects.toMatchObject({ code: 'FORMAT_NOT_FOUND' });
  });
});
