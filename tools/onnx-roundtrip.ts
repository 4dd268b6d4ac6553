/**
 * cnn-zoo's ONNX export read back, for every registry model (or the ones named): `cnn-zoo export NAME --weights
 * random` as a user writes it (inference form, NHWC, the metadata that names the model), then `load(FILE, { runtime:
 * 'tfjs' })` as a user reads it (the reader, the key mapping, the batch norms put back into the training form), and
 * that tfjs model against onnxruntime running the file on a photo: max|tfjs - onnxruntime| / max|onnxruntime|.
 * Each runs at `--size` (default 64, quicker) unless named NAME@SIZE; a model that refuses that size (a reference
 * head with a fixed window, a minimum size) at its default size. Prints one line per model and a summary; exit 1 when one fails or errs.
 * Usage: npx tsx tools/onnx-roundtrip.ts [NAME[@SIZE] ...] [--size 64] [--tolerance 1e-5] [--int8]
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { load } from '../src/api/index.js';
import { useBackend } from '../src/backend.js';
import { listSpecs } from '../src/zoo/registry.js';
import { maxRelError } from '../src/parity/run.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { size: { type: 'string', default: '64' }, tolerance: { type: 'string', default: '1e-5' }, int8: { type: 'boolean' } },
});
process.env.CNN_ZOO_QUIET = '1';
await useBackend('wasm');
const { run: exportCommand } = await import('../src/cli/commands/export.js');
const photo = join(import.meta.dirname, '..', 'examples', 'images', 'grace_hopper.jpg');
const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-roundtrip-'));
const tolerance = Number(values.tolerance);
const names = positionals.length > 0 ? positionals : listSpecs().map((s) => s.name);
let failed = 0;
try {
  for (const entry of names) {
    const [name, at] = entry.split('@') as [string, string | undefined];
    const file = join(dir, `${name}.onnx`);
    const quiet = console.log;
    const args = [name, '--weights', 'random', '--out', file, ...(values.int8 ? ['--int8', '--calibrate', join(import.meta.dirname, '..', 'examples', 'images')] : [])];
    try {
      console.log = () => undefined;
      // The size asked for, else --size, else (a head that fixes its input) the default size.
      let code: number;
      try {
        code = await exportCommand([...args, '--input-size', at ?? values.size!]);
      } catch (e) {
        if (at !== undefined || !/does not fit a \d+x\d+ input|input size \d+x\d+ is invalid/.test(String((e as Error).message))) throw e;
        code = await exportCommand(args);
      }
      console.log = quiet;
      if (code !== 0) throw new Error(`cnn-zoo export exited ${code}`);
      const back = await load(file, { runtime: 'tfjs', hub: { cacheDir: join(dir, 'cache') } });
      const x = await back.preprocess(photo);
      const session = await ort.InferenceSession.create(file);
      const want = (await session.run({ input: new ort.Tensor('float32', await x.data() as Float32Array, x.shape) })).logits!.data as Float32Array;
      await session.release();
      const err = maxRelError(tf.tidy(() => (back.model.predict(x) as tf.Tensor).dataSync() as Float32Array), want);
      const ok = values.int8 ? true : err < tolerance;
      if (!ok) failed++;
      console.log(`${name.padEnd(28)} ${String(x.shape[1]).padStart(4)} px  ${err.toExponential(2)}  ${ok ? 'ok' : 'FAIL'}`);
      x.dispose();
      back.dispose();
    } catch (e) {
      console.log = quiet;
      failed++;
      console.log(`${name.padEnd(28)} ERROR ${String((e as Error).message).split('\n')[0]}`);
    } finally {
      rmSync(file, { force: true });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${names.length - failed} of ${names.length} read back${values.int8 ? '' : ` within ${values.tolerance}`}`);
process.exit(failed > 0 ? 1 : 0);
