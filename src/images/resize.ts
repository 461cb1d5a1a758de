// Bilinear resampling of float images with half-pixel centres, as tf.image.resizeBilinear
// (halfPixelCenters: true), PIL and torchvision (antialias off) place samples: source coordinate
// (x + 0.5) * in / out - 0.5, clamped to the edge.

/** Resizes an [h, w, c] float image to [oh, ow, c]. Returns the input when the size already matches. */
export function resizeBilinear(src: Float32Array, h: number, w: number, c: number, oh: number, ow: number): Float32Array {
  if (h === oh && w === ow) return src;
  const out = new Float32Array(oh * ow * c);
  const ys = axis(h, oh);
  const xs = axis(w, ow);
  for (let y = 0; y < oh; y++) {
    const { i0: y0, i1: y1, f: fy } = ys[y]!;
    for (let x = 0; x < ow; x++) {
      const { i0: x0, i1: x1, f: fx } = xs[x]!;
      for (let k = 0; k < c; k++) {
        const a = src[(y0 * w + x0) * c + k]!;
        const b = src[(y0 * w + x1) * c + k]!;
        const d = src[(y1 * w + x0) * c + k]!;
        const e = src[(y1 * w + x1) * c + k]!;
        const top = a + (b - a) * fx;
        const bot = d + (e - d) * fx;
        out[(y * ow + x) * c + k] = top + (bot - top) * fy;
      }
    }
  }
  return out;
}

function axis(size: number, outSize: number): { i0: number; i1: number; f: number }[] {
  const scale = size / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    const s = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), size - 1);
    const i0 = Math.floor(s);
    return { i0, i1: Math.min(i0 + 1, size - 1), f: s - i0 };
  });
}
