/**
 * What loading converted weights holds on the backend, counted in bytes and tensors: a model built to be filled
 * (`withoutInitialisation`) starts from zeros shared per shape; filling it gives every weight its own data and leaves
 * nothing else; the inference form made by `load()` builds its fused layers from their folded values and releases the
 * training form's weights as it folds them, so wasm's heap (which never shrinks) grows by less than 1.5 times the
 * weights (it grew by 2.5 times: zeros, the loaded weights and the folded copies at once).
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, useBackend } from '../src/index.js';
import { getSpec, resolveOptions } from '../src/zoo/registry.js';
import { withoutInitialisation } from '../src/zoo/ops.js';
import { intoInference, toInference } from '../src/inference/index.js';
import { nodeFileSystem } from '../src/artifacts/node-fs.js';
import { buildFromArtifacts, readArtifacts } from '../src/artifacts/read.js';
import { heapZeroFills, heapZeros } from '../src/kernels/wasm-copy.js';
import { CnnZooError } from '../src/errors.js';
import { ROOT } from './helpers/shared.js';

const bytesOf = (m: tf.LayersModel): number => m.weights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b as number), 1) * 4, 0);
const dataIds = (m: tf.LayersModel): unknown[] => m.weights.map((w) => w.read().dataId);

describe('loading: memory held on the backend (bytes and tensors)', function () {
  this.timeout(600_000);
  let dir: string;

  before(async () => {
    await useBackend('wasm');
    dir = join(mkdtempSync(join(tmpdir(), 'cnn-zoo-load-memory-')), 'resnet18');
    const m = await load('resnet18', { weights: null, runtime: 'tfjs', inference: false });
    await m.save(dir);
    m.dispose();
  });
  after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('a model built to be filled starts from one zero buffer per kernel shape, freed with the model', () => {
    const before = tf.memory();
    const spec = getSpec('resnet50');
    const model = withoutInitialisation(() => spec.build(resolveOptions(spec, {})));
    const kernels = model.weights.filter((w) => w.shape.length >= 2);
    const shapes = new Set(kernels.map((w) => w.shape.join()));
    const data = new Set(kernels.map((w) => w.read().dataId));
    expect(data.size).to.equal(shapes.size); // 28 shapes for 54 kernels
    expect(kernels.length).to.be.greaterThan(shapes.size);
    for (const w of kernels.slice(0, 5)) expect(tf.tidy(() => tf.max(tf.abs(w.read())).dataSync()[0])).to.equal(0);
    model.dispose();
    expect(tf.memory().numTensors).to.equal(before.numTensors);
    expect(tf.memory().numBytes).to.equal(before.numBytes);
  });

  it('zeros made in the heap are all zero, written only where the heap held memory before it grew for them', () => {
    const backend = tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array }; typedArrayFromHeap(t: tf.TensorInfo): Float32Array };
    const allZero = (t: tf.Tensor): boolean => backend.typedArrayFromHeap(t).every((v) => v === 0);
    // Memory in use before: garbage written, freed, then zeros of the same size (malloc hands the same block back).
    const junk = tf.fill([1 << 20], 7);
    junk.dispose();
    let filled = heapZeroFills.bytes;
    const reused = heapZeros([1 << 20])!;
    expect([allZero(reused), heapZeroFills.bytes - filled]).to.deep.equal([true, 4 << 20]);
    reused.dispose();
    // 64 MB: where the heap grows for them, the fresh part is not written (and zero all the same).
    const heapBefore = backend.wasm.HEAPU8.buffer.byteLength;
    filled = heapZeroFills.bytes;
    const big = heapZeros([16 << 20])!;
    const view = backend.typedArrayFromHeap(big);
    const below = Math.min(view.byteLength, Math.max(0, heapBefore - view.byteOffset));
    expect([allZero(big), heapZeroFills.bytes - filled]).to.deep.equal([true, Math.ceil(below / 4) * 4]);
    if (backend.wasm.HEAPU8.buffer.byteLength > heapBefore) expect(below, 'grown for it: the fresh part left untouched').to.be.below(view.byteLength);
    big.dispose();
  });

  it('load(dir) gives every weight its own data and holds nothing else; dispose() frees it all', async () => {
    const before = tf.memory();
    const m = await load(dir, { runtime: 'tfjs' });
    expect(new Set(dataIds(m.model)).size).to.equal(m.model.weights.length);
    expect(tf.memory().numBytes - before.numBytes).to.equal(bytesOf(m.model));
    m.dispose();
    expect(tf.memory().numTensors).to.equal(before.numTensors);
    expect(tf.memory().numBytes).to.equal(before.numBytes);
  });

  it('uint8 weights (the shipped MobileNet v2) are dequantized into wasm\'s heap as tfjs\'s decodeWeights does, to the bit, holding nothing else', async () => {
    const before = tf.memory();
    const m = await load('tf_mobilenet_v2_100', { runtime: 'tfjs', inference: false });
    const artifacts = await nodeFileSystem(join(ROOT, 'models', 'tf_mobilenet_v2_100')).load!();
    const specs = artifacts.weightSpecs!;
    const quantized = new Set(specs.filter((s) => s.quantization?.dtype === 'uint8').map((s) => s.name));
    expect(quantized.size).to.equal(53);
    const reference = tf.io.decodeWeights(artifacts.weightData!, specs);
    let compared = 0;
    for (const w of m.model.weights) {
      if (!quantized.has(w.originalName)) continue;
      const [got, want] = [w.read().dataSync() as Float32Array, reference[w.originalName]!.dataSync() as Float32Array];
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)), w.originalName).to.equal(true);
      compared++;
    }
    expect(compared).to.equal(quantized.size);
    tf.dispose(Object.values(reference));
    expect(tf.memory().numBytes - before.numBytes).to.equal(bytesOf(m.model));
    m.dispose();
    expect(tf.memory().numTensors).to.equal(before.numTensors);
    expect(tf.memory().numBytes).to.equal(before.numBytes);
  });

  it('a folder on wasm: each weight read from the shards into its tensor in the heap, equal to reading the shards whole; the files closed after', async () => {
    // Shards of an odd size, so that weights cross shard ends; and the shipped model's uint8 weights.
    const small = join(dir, '..', 'odd-shards');
    const m = await load(dir, { runtime: 'tfjs', inference: false });
    await m.model.save(nodeFileSystem(small, { shardBytes: 99_991 }));
    m.dispose();
    for (const place of [small, join(ROOT, 'models', 'tf_mobilenet_v2_100')]) {
      const [byShards, whole] = [await readArtifacts(place, { shardReader: true }), await readArtifacts(place)];
      expect([byShards.shards !== undefined, byShards.artifacts.weightData, whole.shards], place).to.deep.equal([true, undefined, undefined]);
      const spec = getSpec(whole.meta.arch);
      const [a, b] = [buildFromArtifacts(spec, byShards), buildFromArtifacts(spec, whole)];
      expect(() => byShards.shards!.readInto(0, new Uint8Array(4)), 'closed').to.throw(CnnZooError, /after they were closed/);
      expect(a.weights.length).to.be.above(50);
      for (const [i, w] of a.weights.entries()) {
        const [x, y] = [w.read().dataSync() as Float32Array, b.weights[i]!.read().dataSync() as Float32Array];
        expect(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), w.name).to.equal(true);
      }
      a.dispose(); b.dispose();
    }
    // A shard cut short after it was checked: named, not read past.
    const read = await readArtifacts(small, { shardReader: true });
    const shard = join(small, 'group1-shard3of' + (readdirSync(small).length - 1) + '.bin');
    truncateSync(shard, 10);
    expect(() => buildFromArtifacts(getSpec('resnet18'), read)).to.throw(CnnZooError, new RegExp(`Weight shard "${shard.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" named by .* cannot be read \\(it changed while being read`));
    expect(() => read.shards!.readInto(0, new Uint8Array(4)), 'closed after the failure too').to.throw(CnnZooError, /after they were closed/);
  });

  it('intoInference(model) gives what toInference(model) gives and disposes the training form', async () => {
    const before = tf.memory().numTensors;
    const a = await load(dir, { runtime: 'tfjs', inference: false });
    const b = (await load(dir, { runtime: 'tfjs', inference: false })).model; // its ZooModel is left, not disposed
    const kept = toInference(a.model);
    const consumed = intoInference(b);
    expect(() => b.weights[0]!.read()).to.throw(/disposed/);
    const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 7);
    const [ya, yb] = [kept.predict(x) as tf.Tensor, consumed.predict(x) as tf.Tensor];
    expect(Array.from(await yb.data())).to.deep.equal(Array.from(await ya.data()));
    tf.dispose([x, ya, yb]);
    kept.dispose();
    consumed.dispose();
    a.dispose();
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('wasm\'s heap grows by less than 1.5 times the weights while load(dir) builds, fills and folds ResNet-18 (2.5 times before)', () => {
    const code = [
      "import * as tf from '@tensorflow/tfjs';",
      `import { load, useBackend } from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))};`,
      "await useBackend('wasm');",
      'const heap = () => tf.backend().wasm.HEAPU8.length;',
      'const h0 = heap();',
      `const m = await load(${JSON.stringify(dir)}, { runtime: 'tfjs' });`,
      'const bytes = m.model.weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);',
      "console.log('HEAP', heap() - h0, bytes);",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CNN_ZOO_QUIET: '1' } });
    expect(r.status, r.stderr).to.equal(0);
    const [growth, bytes] = r.stdout.match(/HEAP (\d+) (\d+)/)!.slice(1).map(Number) as [number, number];
    expect(bytes).to.be.greaterThan(40e6); // ResNet-18's 11.7 M weights
    expect(growth / bytes).to.be.lessThan(1.5); // 1.19 now
  });
});
