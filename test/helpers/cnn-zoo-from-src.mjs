/**
 * `node --import tsx --import ./test/helpers/cnn-zoo-from-src.mjs script.ts`: `import ... from 'cnn-zoo'` loads
 * this checkout's src/index.ts (what users get from dist/, without needing a fresh build). Used to run the
 * examples and the README's snippets as written.
 */
import { register } from 'node:module';

register('./cnn-zoo-from-src-hooks.mjs', import.meta.url);
