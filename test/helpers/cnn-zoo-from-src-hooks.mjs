/** Module resolve hook: the bare specifier `cnn-zoo` -> this checkout's src/index.ts (see cnn-zoo-from-src.mjs). */
const SRC = new URL('../../src/index.ts', import.meta.url).href;

export async function resolve(specifier, context, next) {
  return next(specifier === 'cnn-zoo' ? SRC : specifier, context);
}
