/**
 * The weights shipped in the package's `models/` folder (converted once by
 * `npm run convert:all`, see tools/convert/all.ts): MobileNet v2 1.0 from the TFLite checkpoint,
 * uint8-quantized. Resolved relative to this module, so it works from src/ and dist/ alike.
 */
import { CnnZooError } from '../errors.js';

/** Architecture -> folder under models/: the weights shipped in the package. */
export const SHIPPED: Readonly<Record<string, string>> = {
  tf_mobilenet_v2_100: 'tf_mobilenet_v2_100',
};

/** The architecture `classify` uses when none is named. */
export const DEFAULT_ARCH = 'tf_mobilenet_v2_100';

/** Where the shipped weights of `arch` are (Node: a path; elsewhere: a URL); throws when the package ships none. */
export async function shippedLocation(arch: string): Promise<string> {
  const folder = SHIPPED[arch];
  if (!folder) throw noShippedWeights(arch);
  const url = new URL(`../../models/${folder}/`, import.meta.url);
  if (url.protocol === 'file:') {
    const { fileURLToPath } = await import('node:url');
    return fileURLToPath(url);
  }
  return url.href;
}

/** The error for a model without shipped weights: names the three ways to get some. */
export function noShippedWeights(arch: string): CnnZooError {
  return new CnnZooError(`cnn-zoo ships no weights for "${arch}" (shipped: ${Object.keys(SHIPPED).join(', ')}). ` +
    `Pass weights: 'imagenet' (CLI: --weights imagenet; downloads its published checkpoint, see \`cnn-zoo fetch ${arch}\`), ` +
    'weights: DIR (a folder converted with `cnn-zoo convert`), or weights: null for random initialisation.', 'NO_WEIGHTS');
}

/**
 * The error for shipped weights that cannot be read where cnn-zoo's code looks for them (beside the package's
 * `dist/`): a bundler moved the code away from `models/` (a Node bundle, or a browser app that did not pass the URL).
 */
export function shippedWeightsUnreadable(arch: string, where: string, cause: unknown): CnnZooError {
  const why = String((cause as Error)?.message ?? cause).split(/\.(?:\s|$)/)[0]!; // its first sentence
  return new CnnZooError(`The weights cnn-zoo ships for "${arch}" are not where its code looks for them (${why.includes(where) ? why : `${where}: ${why}`}), as happens ` +
    `when a bundler moves cnn-zoo's code away from its models/ folder. In a Node bundle keep cnn-zoo external (esbuild ` +
    `--packages=external or --external:cnn-zoo; webpack externals), or pass weights: the path of node_modules/cnn-zoo/models/${SHIPPED[arch]}/ ` +
    '(in a browser app, the URL where you serve that folder).', 'SHIPPED_WEIGHTS_UNREADABLE');
}
