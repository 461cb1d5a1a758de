// Model paths as the reference orders them: model_signing keys its manifest by
// pathlib.PurePosixPath, which compares component lists, each component by code point. A name
// "a/b" therefore sorts before "a-b" (["a","b"] < ["a-b"]), unlike a plain string sort.

/** The components of a POSIX path as PurePosixPath parses it: empty and "." parts dropped, ".." kept. */
export function pathComponents(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/** str(PurePosixPath(p)) for a relative path: "." when there are no components. */
export function posixName(components: readonly string[]): string {
  return components.length === 0 ? '.' : components.join('/');
}

/** Compares two strings by Unicode code point, as Python does (JS compares UTF-16 code units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

/** Component-wise comparison of two component lists, as PurePosixPath.__lt__. */
export function compareComponents(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareCodePoints(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Path.is_relative_to: is `prefix` a leading run of components of `path`. */
export function isUnder(path: readonly string[], prefix: readonly string[]): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((c, i) => path[i] === c);
}
