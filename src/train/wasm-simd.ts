/**
 * A minimal WebAssembly assembler for the SIMD training kernels (wasm-simd-pool.ts,
 * wasm-simd-filter.ts): modules that import the wasm backend's own `WebAssembly.Memory`, so that
 * they read and write tensors where the backend keeps them, with no copy.
 *
 * The modules are built here, byte by byte (a few hundred bytes each), rather than shipped as
 * binaries, so that what runs is what the source says. Each is checked by WebAssembly.validate,
 * and its kernel against the cpu backend by test/train/wasm-training-kernels.test.ts.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { setFlagsFromString } from 'node:v8';

export const I32 = 0x7f;
export const V128 = 0x7b;

/** The opcodes the kernels use (SIMD ones follow the 0xfd prefix, as unsigned LEB128). */
export const OP = {
  loop: 0x03, brIf: 0x0d, end: 0x0b, empty: 0x40,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  f32Load: 0x2a, i32Const: 0x41, i32LtU: 0x49, i32Add: 0x6a, i32Mul: 0x6c, i32Shl: 0x74,
} as const;
export const SIMD_OP = {
  v128Load: 0x00, v128Load32Splat: 0x09, v128Store: 0x0b, v128Const: 0x0c, f32x4Splat: 0x13, f32x4Gt: 0x44,
  v128And: 0x4e, v128AndNot: 0x4f, v128Bitselect: 0x52, f32x4Add: 0xe4, f32x4Mul: 0xe6,
} as const;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export const get = (i: number) => [OP.localGet, ...uleb(i)];
export const set = (i: number) => [OP.localSet, ...uleb(i)];
export const tee = (i: number) => [OP.localTee, ...uleb(i)];
export const simd = (op: number) => [0xfd, ...uleb(op)];
export const i32Const = (n: number) => [OP.i32Const, ...sleb(n)];
/** v128.load / v128.store / f32.load at the address on the stack plus a constant offset (align hint 1). */
export const v128Load = (offset = 0) => [...simd(SIMD_OP.v128Load), 0, ...uleb(offset)];
export const v128Store = (offset = 0) => [...simd(SIMD_OP.v128Store), 0, ...uleb(offset)];
export const f32Load = (offset = 0) => [OP.f32Load, 0, ...uleb(offset)];
/** v128.load32_splat: one float at the address plus `offset`, in all four lanes. */
export const v128Load32Splat = (offset = 0) => [...simd(SIMD_OP.v128Load32Splat), 0, ...uleb(offset)];
/** local += amount (i32). */
export const addTo = (local: number, amount: number[]) => [...get(local), ...amount, OP.i32Add, ...set(local)];
/** A do-while loop: `body`, then again while local `counter` < local `limit` (unsigned). */
export const doWhile = (body: number[], counter: number, limit: number) => [OP.loop, OP.empty, ...body, ...get(counter), ...get(limit), OP.i32LtU, OP.brIf, 0, OP.end];
/** The same with a constant limit. */
export const doWhileBelow = (body: number[], counter: number, limit: number) => [OP.loop, OP.empty, ...body, ...get(counter), ...i32Const(limit), OP.i32LtU, OP.brIf, 0, OP.end];

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const name = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];

/**
 * A module that imports env.memory and exports one function `f` of `params` i32 parameters and no
 * result, with `i32Locals` then `v128Locals` locals after the parameters.
 */
export function moduleBytes(params: number, i32Locals: number, v128Locals: number, code: number[]): Uint8Array {
  const fn = [...uleb(2), ...uleb(i32Locals), I32, ...uleb(v128Locals), V128, ...code, OP.end];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, ...uleb(params), ...new Array<number>(params).fill(I32), 0]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]), // memory, min 0, no max
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('f'), 0x00, 0]),
    ...section(10, [1, ...uleb(fn.length), ...fn]),
  ]);
}

// The WebAssembly API, typed here: this project's TypeScript libraries (no DOM) do not declare it.
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => object;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** f32x4.relaxed_madd (the relaxed-SIMD proposal): a * b + c, fused where the CPU has FMA. */
const F32X4_RELAXED_MADD = 0x105;

/**
 * Whether the kernels multiply-add in one instruction. Node 20's V8 (11.3) implements relaxed
 * SIMD behind a flag (on by default from V8 11.4, Node 22); it is turned on here, before any of our
 * modules is compiled, and kept only if a module using it then validates. The flag is process-wide,
 * so worker threads see it too. HALLMARK_WASM_FMA=0 keeps the separate multiply and add (the sums
 * then round after each multiply, as XNNPACK's do).
 */
export const FUSED_MULTIPLY_ADD: boolean = (() => {
  if (process.env.HALLMARK_WASM_FMA === '0') return false;
  const probe = moduleBytes(0, 0, 1, [...get(0), ...get(0), ...get(0), ...simd(F32X4_RELAXED_MADD), ...set(0)]);
  if (wasm.validate(probe)) return true;
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return wasm.validate(probe);
})();

/**
 * acc += x * y on f32x4 locals: one relaxed_madd where FUSED_MULTIPLY_ADD (rounded once: on a CPU
 * with FMA the product is not rounded before the add), else f32x4.mul then f32x4.add.
 */
export function multiplyAdd(acc: number, x: number[], y: number[], fused = FUSED_MULTIPLY_ADD): number[] {
  if (fused) return [...x, ...y, ...get(acc), ...simd(F32X4_RELAXED_MADD), ...set(acc)];
  return [...get(acc), ...x, ...y, ...simd(SIMD_OP.f32x4Mul), ...simd(SIMD_OP.f32x4Add), ...set(acc)];
}

type Kernel = (...args: number[]) => void;
const compiled = new Map<string, object | null>();
const instances = new WeakMap<object, Map<string, Kernel>>();

/**
 * The module named `key` (built by `build` once per process), instantiated once per backend over
 * that backend's heap; undefined when this engine has no wasm SIMD or the backend does not expose
 * its memory, and the caller's other path runs.
 */
export function simdKernel<F extends Kernel>(backend: BackendWasm, key: string, build: () => Uint8Array): F | undefined {
  const known = instances.get(backend)?.get(key);
  if (known) return known as F;
  if (!compiled.has(key)) {
    const bytes = build();
    compiled.set(key, wasm.validate(bytes) ? new wasm.Module(bytes) : null);
  }
  const mod = compiled.get(key);
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!mod || !(memory instanceof wasm.Memory)) return undefined;
  const fn = new wasm.Instance(mod, { env: { memory } }).exports.f as F;
  if (!instances.has(backend)) instances.set(backend, new Map());
  instances.get(backend)!.set(key, fn);
  return fn;
}
