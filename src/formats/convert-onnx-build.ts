// A small builder for the ONNX graphs the TF.js exporter writes: float32 initializers as raw_data,
// nodes with typed attributes, one float input and output per graph with a symbolic batch dim.
import { onnx } from './onnx-tensor.js';

type INode = InstanceType<typeof onnx.NodeProto>;
type ITensor = InstanceType<typeof onnx.TensorProto>;
type IAttr = InstanceType<typeof onnx.AttributeProto>;

export const OPSET = 13;
/** IR version 7 goes with opset 13 (onnx/docs/Versioning.md). */
export const IR_VERSION = 7;
const FLOAT = 1;
const INT64 = 7;

export type Attr = IAttr;
export const attr = {
  int: (name: string, i: number): Attr => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i }),
  ints: (name: string, ints: readonly number[]): Attr => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...ints] }),
  float: (name: string, f: number): Attr => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f }),
};

export interface GraphIo {
  readonly name: string;
  /** Dims after the batch dim, which is written as the symbolic "N". */
  readonly dims: readonly number[];
}

export class OnnxGraphBuilder {
  private readonly nodes: INode[] = [];
  private readonly initializers: ITensor[] = [];
  private readonly used = new Set<string>();

  /** A value name not used yet, based on `base`. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  reserve(name: string): string {
    this.used.add(name);
    return name;
  }

  addFloat(base: string, dims: readonly number[], values: Float32Array): string {
    const name = this.unique(base);
    const raw = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: FLOAT, rawData: raw }));
    return name;
  }

  addInt64(base: string, values: readonly number[]): string {
    const name = this.unique(base);
    const raw = new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: INT64, rawData: raw }));
    return name;
  }

  /** Appends a node with one output named from `outBase`; returns the output name. */
  add(opType: string, inputs: readonly string[], outBase: string, attributes: readonly Attr[] = []): string {
    const out = this.unique(outBase);
    this.nodes.push(onnx.NodeProto.create({ opType, input: [...inputs], output: [out], name: `${opType}_${this.nodes.length}`, attribute: [...attributes] }));
    return out;
  }

  toBytes(name: string, inputs: readonly GraphIo[], outputs: readonly GraphIo[], producer = 'hallmark'): Uint8Array {
    const vi = (io: GraphIo) => onnx.ValueInfoProto.create({
      name: io.name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({
          elemType: FLOAT,
          shape: onnx.TensorShapeProto.create({ dim: [{ dimParam: 'N' }, ...io.dims.map((d) => ({ dimValue: d }))] }),
        }),
      }),
    });
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: producer,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
      graph: onnx.GraphProto.create({ name, node: this.nodes, initializer: this.initializers, input: inputs.map(vi), output: outputs.map(vi) }),
    });
    const buf = onnx.ModelProto.encode(model).finish();
    // protobufjs hands back a Buffer in Node, whose slice() shares memory; return a plain view.
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
}
