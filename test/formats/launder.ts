// The rewrites a thief can apply to a marked ONNX model without changing what it computes,
// written with onnx-proto only (not our splicer), as a converter script would do them.
import { onnx } from '../../src/formats/onnx-tensor.js';
import { f32ToF16Bits } from '../../src/formats/tensor.js';

type Graph = InstanceType<typeof onnx.GraphProto>;
type Tensor = InstanceType<typeof onnx.TensorProto>;

function graphs(g: Graph, out: Graph[] = []): Graph[] {
  out.push(g);
  for (const n of g.node) for (const a of n.attribute) {
    if (a.g) graphs(a.g as Graph, out);
    for (const s of a.graphs ?? []) graphs(s as Graph, out);
  }
  return out;
}

function edit(bytes: Uint8Array, f: (m: InstanceType<typeof onnx.ModelProto>) => void): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  f(m);
  return onnx.ModelProto.encode(m).finish();
}

/** Every initializer (of every graph) becomes a Constant node at the top of its graph. */
export function initializersToConstants(bytes: Uint8Array): Uint8Array {
  return edit(bytes, (m) => {
    for (const g of graphs(m.graph as Graph)) {
      const names = new Set(g.initializer.map((t) => t.name));
      const consts = g.initializer.map((t) => onnx.NodeProto.create({ opType: 'Constant', output: [t.name!], attribute: [{ name: 'value', type: 4, t }] }));
      g.node = [...consts, ...g.node];
      g.initializer = [];
      g.input = g.input.filter((i) => !names.has(i.name!));
    }
  });
}

/** Every Constant `value` tensor (of every graph) becomes an initializer of its graph. */
export function constantsToInitializers(bytes: Uint8Array): Uint8Array {
  return edit(bytes, (m) => {
    for (const g of graphs(m.graph as Graph)) {
      const keep = [];
      for (const n of g.node) {
        const v = n.opType === 'Constant' ? n.attribute.find((a) => a.name === 'value' && a.t) : undefined;
        if (v) g.initializer.push(onnx.TensorProto.create({ ...(v.t as Tensor), name: n.output[0] }));
        else keep.push(n);
      }
      g.node = keep;
    }
  });
}

function allTensors(m: InstanceType<typeof onnx.ModelProto>): Tensor[] {
  const out: Tensor[] = [];
  for (const g of graphs(m.graph as Graph)) {
    out.push(...(g.initializer as Tensor[]));
    for (const n of g.node) for (const a of n.attribute) if (a.t) out.push(a.t as Tensor);
  }
  return out;
}

/** F32 raw_data -> float_data, or back (`to: 'raw'`). */
export function convertStorage(bytes: Uint8Array, to: 'typed' | 'raw'): Uint8Array {
  return edit(bytes, (m) => {
    for (const t of allTensors(m)) {
      if (t.dataType !== 1) continue;
      if (to === 'typed' && t.rawData && t.rawData.byteLength > 0) {
        t.floatData = Array.from(new Float32Array(t.rawData.slice().buffer));
        delete (t as { rawData?: unknown }).rawData;
      } else if (to === 'raw' && t.floatData.length > 0) {
        t.rawData = new Uint8Array(Float32Array.from(t.floatData).buffer);
        delete (t as { floatData?: unknown }).floatData;
      }
    }
  });
}

/** Every F32 weight of rank >= 2 stored as F16, with a Cast back to float in front of its users (keep_io_types style). */
export function castWeightsToF16(bytes: Uint8Array): Uint8Array {
  return edit(bytes, (m) => {
    for (const g of graphs(m.graph as Graph)) {
      const casts: InstanceType<typeof onnx.NodeProto>[] = [];
      const toF16 = (t: Tensor, name: string) => {
        const v = t.rawData && t.rawData.byteLength > 0 ? new Float32Array(t.rawData.slice().buffer) : Float32Array.from(t.floatData);
        const h = Uint16Array.from(v, f32ToF16Bits);
        t.dataType = 10;
        t.rawData = new Uint8Array(h.buffer);
        t.floatData = [];
        t.name = `${name}_f16`;
        casts.push(onnx.NodeProto.create({ opType: 'Cast', input: [`${name}_f16`], output: [name], attribute: [{ name: 'to', type: 2, i: 1 }] }));
      };
      for (const t of g.initializer as Tensor[]) if (t.dataType === 1 && t.dims.length >= 2) toF16(t, t.name!);
      for (const n of g.node) {
        const a = n.opType === 'Constant' ? n.attribute.find((x) => x.name === 'value' && x.t) : undefined;
        if (a && (a.t as Tensor).dataType === 1 && (a.t as Tensor).dims.length >= 2) {
          const name = n.output[0]!;
          toF16(a.t as Tensor, name);
          n.output = [`${name}_f16`];
        }
      }
      // Casts must come before their users in a topologically sorted graph.
      g.node = [...g.node.filter((n) => n.opType === 'Constant'), ...casts, ...g.node.filter((n) => n.opType !== 'Constant' && !casts.includes(n))];
    }
  });
}
