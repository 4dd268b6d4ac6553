/**
 * `npx tsx tools/convert/check-tflite.ts TFLITE_PKG MODEL.tflite[,HEAD.tflite] CONVERTED_DIR [N]`: runs the real
 * TFLite interpreter (`@tensorflow/tfjs-tflite`, which loads only in a browser: headless Debian chromium through
 * playwright-core) and the converted tfjs model on the first N val-subset images, and reports Top-1 agreement,
 * both Top-1 accuracies and the largest probability difference. TFLITE_PKG is the folder of an unpacked
 * `npm pack @tensorflow/tfjs-tflite` (it pins an older tfjs-core, so it is not a dependency). Both models see the
 * same uint8 pixels; the float model gets them as the TFLite input quantization defines them ((q - zp) * scale).
 * A split body + head (MobileNet v1 1.0) chains: the body's uint8 output feeds the head.
 */
import * as tf from '@tensorflow/tfjs';
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../../src/backend.js';
import { decodeImage } from '../../src/image/decode.js';
import { resizeAndCrop } from '../../src/image/preprocess.js';
import { checkMetadata, modelMetadata } from '../../src/artifacts/metadata.js';
import { nodeFileSystem } from '../../src/artifacts/node-fs.js';
import { modelWithWeights } from '../../src/api/weights.js';
import { readTflite } from '../../src/checkpoints/tflite.js';

const [dist, models, dir, n = '100'] = process.argv.slice(2);
if (!dist || !models || !dir) throw new Error('usage: check-tflite.ts TFLITE_PKG MODEL.tflite[,HEAD.tflite] CONVERTED_DIR [N]');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const subset = join(process.env.CNN_ZOO_SHARED ?? join(root, '..', 'shared'), 'imagenet', 'val-subset');
const tfDist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs/package.json'));
const files = models.split(',');
const first = readTflite(await readFile(files[0]!), files[0]);
const inQ = first.tensors[first.inputs[0]!]!.quant!;
await useBackend('wasm');
const meta = checkMetadata((await nodeFileSystem(dir).load!()).userDefinedMetadata, dir);
const model = await modelWithWeights(meta.arch, { weights: dir });
const pre = modelMetadata(model)!.preprocessing;
const lines = (await readFile(join(subset, 'labels.txt'), 'utf8')).trim().split('\n').slice(0, Number(n)).map((l) => l.split(/\s+/));
const pixels: Uint8Array[] = [];
for (const [f] of lines) pixels.push(resizeAndCrop(await decodeImage(join(subset, 'images', f!)), pre).data);

const page = `<script src="/tf.min.js"></script><script src="/tflite/dist/tf-tflite.min.js"></script>`;
const server = createServer(async (req, res) => {
  try {
    const url = req.url ?? '';
    const body = url === '/' ? Buffer.from(page) : url === '/tf.min.js' ? await readFile(join(tfDist, 'dist', 'tf.min.js'))
      : url.startsWith('/tflite/') ? await readFile(join(dist, url.slice(8))) : url.startsWith('/model/') ? await readFile(files[Number(url.slice(7))]!) : undefined;
    const type = url.endsWith('.wasm') ? 'application/wasm' : url.endsWith('.js') ? 'text/javascript' : url === '/' ? 'text/html' : 'application/octet-stream';
    if (process.env.DEBUG) console.error(url, body ? body.length : 404);
    // Cross-origin isolation lets the interpreter use its threaded wasm build.
    const headers = { 'content-type': type, 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
    if (body) res.writeHead(200, headers).end(body); else res.writeHead(404).end();
  } catch { res.writeHead(404).end(); }
});
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const tab = await browser.newPage();
  await tab.goto(`${base}/`);
  await tab.evaluate(async (count) => {
    const g = globalThis as unknown as { tflite: { setWasmPath(p: string): void; loadTFLiteModel(u: string): Promise<unknown> }; models: unknown[] };
    g.tflite.setWasmPath('/tflite/wasm/');
    g.models = await Promise.all(Array.from({ length: count }, (_, i) => g.tflite.loadTFLiteModel(`/model/${i}`)));
  }, files.length);
  const ref: number[][] = [];
  for (const px of pixels) {
    // One image per call, as base64: large arrays through evaluate() exhaust the heap.
    ref.push(await tab.evaluate(({ b64, size }) => {
      const g = globalThis as unknown as { tf: typeof import('@tensorflow/tfjs'); models: { predict(x: unknown): { dataSync(): ArrayLike<number>; dispose(): void } }[] };
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      let x: { dataSync(): ArrayLike<number>; dispose(): void } = g.tf.tensor(Int32Array.from(bytes), [1, size, size, 3], 'int32');
      for (const m of g.models) { const y = m.predict(x); x.dispose(); x = y; }
      const out = Array.from(x.dataSync());
      x.dispose();
      return out;
    }, { b64: Buffer.from(px).toString('base64'), size: pre.size }));
  }
  let agree = 0, oursTop1 = 0, refTop1 = 0, worst = 0;
  const argmax = (a: ArrayLike<number>) => { let b = 0; for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i; return b; };
  pixels.forEach((px, k) => {
    const probs = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(px, (q) => (q - inQ.zeroPoint[0]!) * inQ.scale[0]!), [1, pre.size, pre.size, 3]);
      return tf.softmax(model.predict(x) as tf.Tensor2D).dataSync() as Float32Array;
    });
    const r = ref[k]!;
    const rmax = Math.max(...r);
    const rp = r.map((v) => v / (rmax > 1 ? 256 : 1)); // uint8 softmax output: scale 1/256
    for (let i = 0; i < probs.length; i++) worst = Math.max(worst, Math.abs(probs[i]! - rp[i]!));
    const label = Number(lines[k]![1]) + meta.classOffset;
    if (argmax(probs) === argmax(rp)) agree++;
    if (argmax(probs) === label) oursTop1++;
    if (argmax(rp) === label) refTop1++;
  });
  const pct = (x: number) => `${(100 * x / pixels.length).toFixed(1)}%`;
  console.log(`${meta.arch}, ${pixels.length} images: Top-1 agrees on ${pct(agree)}; Top-1 ours (float) ${pct(oursTop1)}, TFLite interpreter (uint8) ${pct(refTop1)}; max |p_ours - p_tflite| ${worst.toFixed(3)}`);
} finally {
  await browser.close();
  server.close();
}
