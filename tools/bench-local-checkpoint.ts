/**
 * Time of a checkpoint file given as weights (`--weights FILE`): the first use converts it into the cache, later
 * uses hash it and find it there. Usage: npx tsx tools/bench-local-checkpoint.ts [FILE] [ARCH]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCheckpoint } from '../src/pretrained/index.js';
import { useBackend } from '../src/backend.js';

const file = process.argv[2] ?? join('..', 'shared', 'fixtures', 'checkpoints', 'squeezenet1_1.pth');
const arch = process.argv[3] ?? 'squeezenet1_1';
await useBackend('wasm');
const cacheDir = mkdtempSync(join(tmpdir(), 'cnn-zoo-bench-local-'));
try {
  for (const what of ['first use (hash + read + convert + save)', 'cached (hash + lookup)', 'cached (hash + lookup)']) {
    const t0 = performance.now();
    const r = await importCheckpoint(arch, file, { cacheDir });
    console.log(`${what}: ${(performance.now() - t0).toFixed(0)} ms (fromCache ${r.fromCache}, ${r.format})`);
  }
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
