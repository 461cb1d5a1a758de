// face-api's demo photos (fixtures/real/faceapi-samples, real JPEGs from a public package) as
// float HWC images in [0, 1], resized to side x side x 3 by our bilinear resize.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, resizeBilinear } from '../../src/images/index.js';
import { REPO } from './paths.js';

export function samplePhoto(k: number, side = 224): Float32Array {
  const rgba = decodeImage(readFileSync(join(REPO, `fixtures/real/faceapi-samples/sample${k}.jpg`)), 'jpeg', `sample${k}.jpg`);
  const rgb = new Float32Array(rgba.width * rgba.height * 3);
  for (let i = 0; i < rgba.width * rgba.height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = rgba.data[i * 4 + c]! / 255;
  return resizeBilinear(rgb, rgba.height, rgba.width, 3, side, side);
}
