/**
 * Dev check of the Darknet .weights reader against Darknet itself (Debian's libdarknet, through
 * tools/hub/darknet-reference.py):
 *   npx tsx tools/hub/check-darknet.ts write DIR     # random .weights for the 4 cfg models + an input each
 *   /usr/bin/python3 tools/hub/darknet-reference.py DIR   # Darknet's output for them
 *   npx tsx tools/hub/check-darknet.ts compare DIR   # fetchWeights (loopback mirror) + load, vs Darknet
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../../src/backend.js';
import { det } from '../../src/parity/det.js';
import { maxRelError } from '../../src/parity/run.js';
import { writeDarknetWeights } from '../../src/checkpoints/darknet.js';
import { fetchWeights, resolveCheckpoint } from '../../src/pretrained/index.js';
import { modelWithWeights } from '../../src/api/weights.js';
import { readNpy, writeNpy } from '../../src/checkpoints/npy.js';
import type { StateDict } from '../../src/arrays.js';
import { withoutInitialisation } from '../../src/zoo/ops.js';
import { getSpec, resolveOptions } from '../../src/zoo/registry.js';

const [mode, dir] = process.argv.slice(2);
if (!dir || (mode !== 'write' && mode !== 'compare')) throw new Error('usage: check-darknet.ts write|compare DIR');
const ARCHS = ['darknet_reference', 'tiny_darknet', 'darknet19', 'darknet53_original'];
await useBackend('wasm');

/** det() values mapped into [lo, hi]. */
const uniform = (seed: string, n: number, lo: number, hi: number) => det(seed, n, 1).map((v) => lo + ((v + 1) / 2) * (hi - lo));

if (mode === 'write') {
  for (const arch of ARCHS) {
    const spec = getSpec(arch);
    const model = withoutInitialisation(() => spec.build(resolveOptions(spec)));
    const sd: StateDict = new Map();
    const order: string[] = [];
    for (const l of model.layers) {
      const m = /^layers\.(\d+)\.conv$/.exec(l.name);
      if (!m) continue;
      const [kh, kw, c, n] = l.weights[0]!.shape as number[];
      const i = m[1]!;
      order.push(i);
      sd.set(`layers.${i}.conv.weight`, { shape: [n!, c!, kh!, kw!], data: det(`${arch}.${i}.w`, n! * c! * kh! * kw!, Math.sqrt(3 / (c! * kh! * kw!))) });
      if (model.layers.some((x) => x.name === `layers.${i}.bn`)) {
        sd.set(`layers.${i}.bn.weight`, { shape: [n!], data: uniform(`${arch}.${i}.g`, n!, 0.5, 1.5) });
        sd.set(`layers.${i}.bn.bias`, { shape: [n!], data: uniform(`${arch}.${i}.b`, n!, -0.1, 0.1) });
        sd.set(`layers.${i}.bn.running_mean`, { shape: [n!], data: uniform(`${arch}.${i}.m`, n!, -0.1, 0.1) });
        sd.set(`layers.${i}.bn.running_var`, { shape: [n!], data: uniform(`${arch}.${i}.v`, n!, 0.5, 1.5) });
      } else {
        sd.set(`layers.${i}.conv.bias`, { shape: [n!], data: uniform(`${arch}.${i}.b`, n!, -0.1, 0.1) });
      }
    }
    model.dispose();
    writeFileSync(join(dir, `${arch}.weights`), writeDarknetWeights(sd, order));
    const s = spec.inputSize;
    writeFileSync(join(dir, `${arch}.x.npy`), writeNpy({ shape: [1, 3, s, s], data: uniform(`${arch}.x`, 3 * s * s, 0, 1) }));
    console.log(`${arch}: ${order.length} conv sections`);
  }
} else {
  const files = new Map<string, Uint8Array>();
  for (const arch of ARCHS) files.set(resolveCheckpoint(arch).file, new Uint8Array(readFileSync(join(dir, `${arch}.weights`))));
  const server = createServer((req, res) => { const b = files.get(decodeURIComponent(req.url!.slice(1))); if (!b) { res.writeHead(404).end(); return; } res.writeHead(200, { 'Content-Length': b.length }).end(b); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const cacheDir = mkdtempSync(join(tmpdir(), 'darknet-check-'));
  for (const arch of ARCHS) {
    const c = resolveCheckpoint(arch);
    const bytes = files.get(c.file)!;
    const r = await fetchWeights(arch, 'imagenet', { mirror, cacheDir, sha256: createHash('sha256').update(bytes).digest('hex'), retries: 0 });
    const model = await modelWithWeights(arch, { weights: r.dir });
    const x = readNpy(readFileSync(join(dir, `${arch}.x.npy`))), y = readNpy(readFileSync(join(dir, `${arch}.y.npy`)));
    const probs = tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(x.data, x.shape as [number, number, number, number]).transpose([0, 2, 3, 1])) as tf.Tensor2D).dataSync() as Float32Array);
    const top = (a: Float32Array) => [...a.keys()].sort((i, j) => a[j]! - a[i]!).slice(0, 5).join(',');
    console.log(`${arch}: max|ours-darknet|/max|darknet| ${maxRelError(probs, y.data).toExponential(3)} (probabilities), top-5 ours ${top(probs)} darknet ${top(y.data)}`);
    model.dispose();
  }
  server.close();
}
