/**
 * The kernel initialisers a Layers model's topology records. A seeded initialiser lets anyone who
 * knows the seed rebuild the model's starting weights: a model built from the same seeds starts
 * where it started, and behaviour-based evidence (a fingerprint) cannot tell such a model from a
 * derived one (docs/fingerprints.md, "The student's twin").
 */
import type * as tf from '@tensorflow/tfjs';

interface InitialiserConfig {
  readonly className?: string;
  readonly config?: { readonly seed?: unknown };
}

function kernelInitialiser(layer: tf.layers.Layer): InitialiserConfig | undefined {
  return (layer.getConfig() as { kernelInitializer?: InitialiserConfig }).kernelInitializer;
}

/** Each layer's kernel initialiser as "class:seed" ("" for a layer without one), in layer order. */
export function recordedInitialisers(model: tf.LayersModel): string[] {
  return model.layers.map((l) => {
    const k = kernelInitialiser(l);
    return k ? `${k.className}:${String(k.config?.seed)}` : '';
  });
}

/** The seeds of the seeded kernel initialisers the topology records, in layer order (empty: none). */
export function seededInitialisers(model: tf.LayersModel): number[] {
  return model.layers.flatMap((l) => {
    const seed = kernelInitialiser(l)?.config?.seed;
    return typeof seed === 'number' && Number.isFinite(seed) ? [seed] : [];
  });
}
