/**
 * Dev check (needs the files of tools/hub/torchvision-layouts.py): full torchvision state_dicts, served on a
 * loopback mirror under the weights table's file names, go through fetchWeights + load and reproduce torchvision's
 * outputs. Prints max|ours-ref|/max|ref| per model.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFileSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../../src/backend.js';
import { fetchWeights, resolveCheckpoint } from '../../src/pretrained/index.js';
import { modelWithWeights } from '../../src/api/weights.js';
import { readNpy } from '../../src/checkpoints/npy.js';
import { maxRelError } from '../../src/parity/run.js';

const D = process.argv[2] ?? (() => { throw new Error('usage: check-torchvision-layouts.ts DIR'); })();
const names = ['googlenet', 'inception_v3', 'resnet50', 'mobilenet_v2', 'densenet121', 'shufflenet_v2_x1_0', 'squeezenet1_1', 'vgg11_bn'];
await useBackend('wasm');
const files = new Map<string, Buffer>();
for (const n of names) files.set(resolveCheckpoint(n, 'torchvision:IMAGENET1K_V1').file, readFileSync(join(D, `${n}.pth`)));
const server = createServer((req, res) => { const b = files.get(decodeURIComponent(req.url!.slice(1))); if (!b) { res.writeHead(404).end(); return; } res.writeHead(200, { 'Content-Length': b.length }).end(b); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const cacheDir = mkdtempSync(join(tmpdir(), 'tvc-'));
for (const n of names) {
  const c = resolveCheckpoint(n, 'torchvision:IMAGENET1K_V1');
  const bytes = files.get(c.file)!;
  const r = await fetchWeights(n, 'torchvision:IMAGENET1K_V1', { mirror, cacheDir, sha256: createHash('sha256').update(bytes).digest('hex'), retries: 0 });
  const m = await modelWithWeights(n, { weights: r.dir });
  const x = readNpy(readFileSync(join(D, `${n}.x.npy`))), y = readNpy(readFileSync(join(D, `${n}.y.npy`)));
  const out = tf.tidy(() => (m.predict(tf.tensor4d(x.data, x.shape as [number, number, number, number]).transpose([0, 2, 3, 1])) as tf.Tensor).dataSync() as Float32Array);
  console.log(n, 'max rel err', maxRelError(out, y.data).toExponential(3));
  m.dispose();
}
server.close();
