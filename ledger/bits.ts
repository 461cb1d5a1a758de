// Bit helpers over non-negative integers up to 2^64, done in BigInt so that tree sizes above
// 2^32 behave exactly like the uint64 arithmetic of the transparency-dev reference code.

export function bitLen(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

export function onesCount(x: bigint): number {
  let n = 0;
  for (let v = x; v > 0n; v >>= 1n) if (v & 1n) n++;
  return n;
}

export function trailingZeros(x: bigint): number {
  if (x === 0n) return 64;
  let n = 0;
  for (let v = x; (v & 1n) === 0n; v >>= 1n) n++;
  return n;
}

export function checkSize(name: string, v: number): bigint {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative safe integer, got ${v}`);
  return BigInt(v);
}
