/**
 * Fuzzing the model-file readers (TFLite flatbuffers, ONNX and caffemodel protobufs, Keras HDF5, Caffe
 * prototxt, tfjs model.json + shards) from the real files in shared/weights: every truncated, flipped,
 * inflated or shuffled copy either loads (identical arrays after a truncation) or throws a CnnZooError
 * naming the file, in bounded time. See test/helpers/fuzz.ts for the oracle, tools/fuzz/ for long runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifactArrays } from '../src/artifacts/save.js';
import { readCaffeBlobs, readCaffemodel, readPrototxt, writeCaffemodel } from '../src/checkpoints/caffe.js';
import { readKerasH5 } from '../src/checkpoints/h5.js';
import { fromFileMap } from '../src/artifacts/read.js';
import { readOnnx } from '../src/checkpoints/onnx.js';
import type { StateDict } from '../src/arrays.js';
import { readTflite } from '../src/checkpoints/tflite.js';
import { fuzzReader, inflateVarint, protobufFields, type Arrays, type FuzzTarget } from './helpers/fuzz.js';
import { SHARED } from './helpers/shared.js';

const W = join(SHARED, 'weights');
const bytes = (p: string) => new Uint8Array(readFileSync(p));
const arrays = (sd: StateDict): Arrays => Object.fromEntries(sd);
const pick = <T>(xs: readonly T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)]!;

/** Protobuf targets: half the inflations rewrite a real length prefix (found by walking the message). */
function protobufTarget(name: string, b: Uint8Array, read: FuzzTarget['read']): FuzzTarget {
  const lengths = protobufFields(b);
  return { name, bytes: b, read, rewrites: [(x, rnd) => inflateVarint(x, pick(lengths, rnd))], hot: [[0, 4096], ...lengths.slice(0, 64).map((f) => [f.at, f.at + 16] as [number, number])] };
}

describe('fuzz: TFLite, ONNX, Keras h5, Caffe and tfjs readers on mutated real model files', () => {
  it('TFLite flatbuffer (mobilenet_v1_0.25_128_quant.tflite)', async () => {
    const name = 'mobilenet_v1_0.25_128_quant.tflite';
    const b = bytes(join(W, 'tflite-mobilenet', name));
    // The model table, vtables and tensor tables sit in the first and last few KB; aligned words there are offsets.
    const fields = Array.from({ length: 1024 }, (_, i) => ({ at: i * 4, size: 4 as const, littleEndian: true, what: `word ${i}` }));
    await fuzzReader({
      name, bytes: b, fields, hot: [[0, 8192], [b.length - 16384, b.length]],
      read: (x, s) => Object.fromEntries(readTflite(x, s).tensors.filter((t) => t.data).map((t) => [`${t.index}:${t.name}`, { shape: t.shape, data: t.data! }])),
    }, 1000);
  });

  it('ONNX protobuf, int8 (mobilenet_v2_quant.onnx)', async () => {
    await fuzzReader(protobufTarget('mobilenet_v2_quant.onnx', bytes(join(W, 'onnx-mobilenetv2-int8', 'mobilenet_v2_quant.onnx')), (x, s) => arrays(readOnnx(x, s).stateDict)), 80);
  });

  it('caffemodel protobuf (SqueezeNet 1.1 weights encoded as a caffemodel)', async () => {
    const dir = join(W, 'caffe-squeezenet_v1.1');
    const net = readPrototxt(readFileSync(join(dir, 'deploy.prototxt'), 'utf8'));
    const sd = await readCaffeBlobs(net, async (p) => { try { return bytes(join(dir, 'weights', p)); } catch { return undefined; } }, dir);
    await fuzzReader(protobufTarget('squeezenet_v1.1.caffemodel', writeCaffemodel(sd), (x, s) => arrays(readCaffemodel(x, s))), 200);
  });

  // HDF5 runs in a worker stopped after cpuTimeMs of its CPU time (not wall time): some damaged files make the
  // HDF5 library loop (see security-checkpoints.test.ts); those count as refused. A valid read needs ~0.5 s.
  it('Keras HDF5 (mobilenet_v1_0.25_224.h5)', async () => {
    const name = 'mobilenet_v1_0.25_224.h5';
    await fuzzReader({ name, bytes: bytes(join(W, 'keras-mobilenet_v1_0.25_224', name)), read: async (x, s) => arrays((await readKerasH5(x, s, { cpuTimeMs: 2000 })).stateDict) }, 150);
  });

  it('Caffe prototxt text (bvlc_googlenet deploy.prototxt)', async () => {
    const b = bytes(join(W, 'caffe-bvlc_googlenet', 'deploy.prototxt'));
    const read = (x: Uint8Array, s: string): Arrays => {
      const net = readPrototxt(new TextDecoder().decode(x), s);
      return Object.fromEntries(net.layers.map((l, i) => [`${i}:${l.name}:${l.type}:${l.kernel ?? ''}`, { shape: [0], data: [] }]));
    };
    await fuzzReader({ name: 'deploy.prototxt', bytes: b, read, truncationMayLoad: true, hot: [[0, b.length]] }, 1000);
  });

  it('tfjs model.json + shards (mobilenet_v1_0.25_224): paths, shapes, dtypes and shard bytes', async () => {
    const dir = join(W, 'tfjs-mobilenet_v1_0.25_224');
    const shards: Record<string, Uint8Array> = {};
    for (const f of readdirSync(dir)) if (f.startsWith('group')) shards[f] = bytes(join(dir, f));
    const json = bytes(join(dir, 'model.json'));
    const read = async (x: Uint8Array, s: string): Promise<Arrays> => {
      const artifacts = await fromFileMap({ ...shards, [s]: x }).load!();
      return Object.fromEntries(await artifactArrays(artifacts, s));
    };
    type Manifest = { weightsManifest: { paths: unknown[]; weights: { name: string; shape: unknown[]; dtype: unknown; quantization?: unknown }[] }[] };
    const edit = (f: (m: Manifest, rnd: () => number) => void) => (x: Uint8Array, rnd: () => number): Uint8Array => {
      const m = JSON.parse(new TextDecoder().decode(x)) as Manifest;
      f(m, rnd);
      return new TextEncoder().encode(JSON.stringify(m));
    };
    const group = (m: Manifest, rnd: () => number) => pick(m.weightsManifest, rnd);
    await fuzzReader({
      name: 'model.json', bytes: json, read, hot: [[json.length - 4096, json.length]],
      rewrites: [
        edit((m, r) => { const g = group(m, r); g.paths[0] = pick(['../../etc/passwd', '/etc/passwd', '..%2f..%2fetc/passwd', 'http://evil.example/x.bin', 'C:\\x.bin', '', 'group1-shard1of1'], r); }),
        edit((m, r) => { const w = pick(group(m, r).weights, r); w.shape[Math.floor(r() * w.shape.length)] = pick([2 ** 31, 2 ** 40, -1, 1.5, 1e300, 'x'], r); }),
        edit((m, r) => { const w = pick(group(m, r).weights, r); w.dtype = pick(['string', 'complex64', 'int32', 'bool', 'float16', 7, null], r); }),
        edit((m, r) => { const w = pick(group(m, r).weights, r); w.quantization = pick([{ dtype: 'uint8', min: 0, scale: 1 }, { dtype: 'string' }, { dtype: 'float16' }, 5], r); }),
        edit((m, r) => { const a = group(m, r), b2 = group(m, r); [a.paths, b2.paths] = [b2.paths, a.paths]; }),
      ],
    }, 500);
  });

  it('tfjs weight shard bytes (group29-shard1of1, the classifier)', async () => {
    const dir = join(W, 'tfjs-mobilenet_v1_0.25_224');
    const files: Record<string, Uint8Array> = { 'model.json': bytes(join(dir, 'model.json')) };
    for (const f of readdirSync(dir)) if (f.startsWith('group')) files[f] = bytes(join(dir, f));
    const read = async (x: Uint8Array, s: string): Promise<Arrays> => Object.fromEntries(await artifactArrays(await fromFileMap({ ...files, [s]: x }).load!(), s));
    await fuzzReader({ name: 'group29-shard1of1', bytes: files['group29-shard1of1']!, read }, 150);
  });
});
