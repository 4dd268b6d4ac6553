/**
 * The embedded default weights shipped in the package's `models/` folder (converted once by
 * `npm run convert:all`, see tools/convert/all.ts): MobileNet v2 1.0 from the TFLite checkpoint,
 * uint8-quantized. Resolved relative to this module, so it works from src/ and dist/ alike.
 */
import { CnnZooError } from '../errors.js';

/** Architecture -> folder under models/. */
export const EMBEDDED: Readonly<Record<string, string>> = {
  tf_mobilenet_v2_100: 'tf_mobilenet_v2_100',
};

/** The architecture `classify` uses when none is named. */
export const DEFAULT_ARCH = 'tf_mobilenet_v2_100';

/** The folder holding the package's `models/` (Node: a path; elsewhere: a URL). */
export async function embeddedLocation(folder: string): Promise<string> {
  const url = new URL(`../../models/${folder}/`, import.meta.url);
  if (url.protocol === 'file:') {
    const { fileURLToPath } = await import('node:url');
    return fileURLToPath(url);
  }
  return url.href;
}

/** Where the embedded weights of `arch` are; throws when the package ships none for it. */
export async function defaultWeightsFor(arch: string): Promise<string> {
  const folder = EMBEDDED[arch];
  if (!folder) {
    throw noEmbeddedWeights(arch);
  }
  return embeddedLocation(folder);
}

/** The error for a model without embedded weights: names the three ways to get some. */
export function noEmbeddedWeights(arch: string): CnnZooError {
  return new CnnZooError(`cnn-zoo ships no weights for "${arch}" (embedded: ${Object.keys(EMBEDDED).join(', ')}). ` +
    `Pass weights: 'imagenet' (CLI: --weights imagenet; downloads its published checkpoint, see \`cnn-zoo fetch ${arch}\`), ` +
    'weights: DIR (a folder converted with `cnn-zoo convert`), or weights: null for random initialisation.', 'NO_WEIGHTS');
}
