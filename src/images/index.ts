// Images as model inputs: PNG/JPEG decoding, bilinear resize, normalisation, class folders.
export { decodeImage, imageKindOf, readImageSize, readJpegSize, type ImageKind, type Rgba } from './decode.js';
export { listImageFolder, loadImageFolder, PREPROCESS_FILE, type ImageFolderDataset, type ImageFolderOptions } from './folder.js';
export { describePreprocess, parsePreprocess, pixelMap, type ImagePreprocess, type Layout } from './preprocess.js';
export { resizeBilinear } from './resize.js';
