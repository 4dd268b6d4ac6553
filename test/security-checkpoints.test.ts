/**
 * Hostile checkpoints crafted byte by byte: pickles that would run code in Python, length fields that claim
 * terabytes, zip bombs, and files that point many tensors at the same bytes. Each is refused with a
 * CnnZooError naming the file and the problem, at once (before allocating), and never runs anything.
 */
import { expect } from 'chai';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as flatbuffers from 'flatbuffers';
import { Deflate } from 'fflate';
import protobuf from 'protobufjs';
import { CAFFE_PROTO } from '../src/checkpoints/caffe-proto.js';
import { readCaffemodel } from '../src/checkpoints/caffe.js';
import { readKerasH5 } from '../src/checkpoints/h5.js';
import { readNpy } from '../src/checkpoints/npy.js';
import { ONNX_PROTO } from '../src/checkpoints/onnx-proto.js';
import { readOnnx } from '../src/checkpoints/onnx.js';
import { readSafetensors } from '../src/checkpoints/safetensors.js';
import { readTflite } from '../src/checkpoints/tflite.js';
import { ByteReader } from '../src/checkpoints/bytes.js';
import { unpickle, WORK_PER_BYTE, WORK_SLACK, type PickleWork } from '../src/checkpoints/pickle.js';
import { readTorch } from '../src/checkpoints/torch.js';
import { concat, expectRefused, Pickle, torchZip, zip } from './helpers/fuzz.js';
import { SHARED } from './helpers/shared.js';

const enc = new TextEncoder();
const floats = (n: number) => new Uint8Array(new Float32Array(n).fill(1).buffer);

describe('security: pickles never run code (allow-list of globals)', () => {
  const sentinel = join(tmpdir(), `cnn-zoo-pwned-${process.pid}`);
  const cmd = `touch ${sentinel}`;
  after(() => rmSync(sentinel, { force: true }));

  // Each would run `touch <sentinel>` (or any code) under Python's pickle.
  const payloads: [string, string, Uint8Array][] = [
    ['GLOBAL + REDUCE', 'os.system', new Pickle().global('os', 'system').mark().str(cmd).tuple().reduce().stop()],
    ['GLOBAL posix.system', 'posix.system', new Pickle().global('posix', 'system').mark().str(cmd).tuple().reduce().stop()],
    ['STACK_GLOBAL', 'builtins.eval', new Pickle().str('builtins').str('eval').raw(0x93).mark().str('__import__("os").system("x")').tuple().reduce().stop()],
    ['INST', 'os.system', new Pickle().mark().str(cmd).raw(0x69, enc.encode('os\nsystem\n')).stop()],
    ['OBJ', 'subprocess.Popen', new Pickle().mark().global('subprocess', 'Popen').mark().str('sh').str('-c').str(cmd).tuple().raw(0x6f).stop()],
    ['NEWOBJ', 'builtins.getattr', new Pickle().global('builtins', 'getattr').mark().str('x').str('y').tuple().raw(0x81).stop()],
    ['REDUCE of __builtin__.exec', '__builtin__.exec', new Pickle().global('__builtin__', 'exec').mark().str('import os').tuple().reduce().stop()],
    ['a torch function that is not a tensor rebuild', 'torch.serialization.load', new Pickle().global('torch.serialization', 'load').mark().str('/etc/passwd').tuple().reduce().stop()],
  ];
  for (const [how, global, pickle] of payloads) {
    it(`refuses ${how} (${global}) by name, in a ZIP checkpoint and a legacy stream`, async () => {
      await expectRefused(() => readTorch(torchZip(pickle), 'evil.pth'), 'evil.pth', new RegExp(`global ${global.replace(/\./g, '\\.')}`));
      // Legacy: the first pickle of the stream (where the magic number belongs) is already hostile.
      await expectRefused(() => readTorch(pickle, 'evil.legacy.pth'), 'evil.legacy.pth', new RegExp(`global ${global.replace(/\./g, '\\.')}`));
      expect(existsSync(sentinel), 'the payload ran').to.equal(false);
    });
  }

  it('a hostile global nested inside an otherwise valid state_dict is refused too', async () => {
    const p = new Pickle().global('collections', 'OrderedDict').emptyTuple().reduce().str('conv.weight').tensor('0', 4, 0, [4], [1]).setitem()
      .str('boom').global('os', 'system').mark().str(cmd).tuple().reduce().setitem().stop();
    await expectRefused(() => readTorch(torchZip(p, { 0: floats(4) }), 'nested.pth'), 'nested.pth', /global os\.system/);
    expect(existsSync(sentinel)).to.equal(false);
  });
});

describe('security: pickles cannot cause unbounded work, recursion or allocation', () => {
  /** Unpickles `bytes` with no globals allowed, returning the work the unpickler counted (and what it threw). */
  const counted = (bytes: Uint8Array): { work: PickleWork; err: unknown } => {
    const work: PickleWork = { ops: 0, spent: 0, budget: 0 };
    let err: unknown;
    try {
      unpickle(new ByteReader(bytes, 'x.pkl'), { globals: new Map(), refuse: (m, n) => { throw new Error(`${m}.${n}`); }, source: 'x.pkl', meter: work });
    } catch (e) { err = e; }
    return { work, err };
  };

  it('LONG4 of 4 MB costs work linear in its bytes (counted), then is refused as no checkpoint', async () => {
    const long = concat(new Uint8Array([0x80, 2, 0x8b]), new Uint8Array(new Uint32Array([4 << 20]).buffer), new Uint8Array(4 << 20).fill(0x5a), new Uint8Array([0x2e]));
    await expectRefused(() => readTorch(long, 'long.pth'), 'long.pth', /not a PyTorch checkpoint/);
    const { work, err } = counted(long);
    expect(err).to.equal(undefined);
    // One unit per opcode and per byte decoded: the 4 MB integer costs its length, once.
    expect(work).to.deep.equal({ ops: 3, spent: long.length, budget: long.length * WORK_PER_BYTE + WORK_SLACK });
  });

  it('APPENDS of 3 million items is a CnnZooError, not a stack overflow, and costs a few units per item', async () => {
    const p = new Pickle().emptyList().mark().raw(new Uint8Array(3_000_000).fill(0x4e)).appends().stop();
    await expectRefused(() => readTorch(p, 'appends.pth'), 'appends.pth', /not a PyTorch checkpoint/);
    const { work, err } = counted(p);
    expect(err).to.equal(undefined);
    expect(work.ops).to.equal(3_000_005);
    // Each None: its opcode, its move off the stack at APPENDS, its append (+ 5 opcodes and PROTO's 1-byte argument).
    expect(work.spent).to.equal(3 * 3_000_000 + 6);
  });

  it('BUILD repeated on a memoized 100k-entry dict is stopped by the work budget', async () => {
    const p = new Pickle().emptyDict().emptyDict().put(0).mark();
    for (let i = 0; i < 100_000; i++) p.int(i).none();
    p.setitems();
    p.raw(0x30); // POP the filled dict (memo 0 keeps it); the first dict stays as BUILD's target
    for (let i = 0; i < 300_000; i++) p.get(0).build();
    const pickle = p.stop();
    await expectRefused(() => readTorch(torchZip(pickle), 'build.pth'), 'build.pth', /far more work than its size explains \(\d+ work units, more than \d+ for its \d+ bytes/);
    const { work, err } = counted(pickle);
    expect((err as Error).message).to.match(/far more work/);
    // Refused as soon as the count passed the budget (4 units per byte + 1M), after about 100 of the 300k BUILDs.
    expect(work.budget).to.equal(pickle.length * WORK_PER_BYTE + WORK_SLACK);
    expect(work.spent).to.be.above(work.budget).and.at.most(work.budget + 100_000);
    expect(work.ops).to.be.below(pickle.length / 2);
  });

  it('a list nested a million deep, or cyclic, used as a key is never recursed into', async () => {
    const deep = new Pickle().emptyDict();
    deep.raw(new Uint8Array(1_000_000).fill(0x5d)).raw(new Uint8Array(999_999).fill(0x61)); // ]]]...]  then aaa...a
    deep.int(1).setitem();
    await expectRefused(() => readTorch(torchZip(deep.stop()), 'deep.pth'), 'deep.pth', /no state_dict of tensors found \(top-level keys: <tuple>\)/);
    // A storage key that is a deeply nested tuple.
    const p = new Pickle().emptyDict().str('w').global('torch._utils', '_rebuild_tensor_v2').mark().mark().str('storage').global('torch', 'FloatStorage');
    p.raw(new Uint8Array(200_000).fill(0x5d)).raw(new Uint8Array(199_999).fill(0x61)).str('cpu').int(1).tuple().raw(0x51);
    p.int(0).ints([1]).ints([1]).tuple().reduce().setitem();
    await expectRefused(() => readTorch(torchZip(p.stop()), 'deepkey.pth'), 'deepkey.pth', /ZIP entry "archive\/data\/<tuple>" is missing/);
    // l = []; l.append(l); {l_as_key: 1}
    const cyclic = new Pickle().emptyDict().emptyList().put(0).get(0).raw(0x61).int(1).setitem().stop();
    await expectRefused(() => readTorch(torchZip(cyclic), 'cyclic.pth'), 'cyclic.pth', /no state_dict/);
  });

  it('a tensor repeating one stored float 2^30 times (stride 0) is refused before allocating 4 GB', async () => {
    const p = new Pickle().emptyDict().str('w').tensor('0', 1, 0, [2 ** 30], [0]).setitem().stop();
    await expectRefused(() => readTorch(torchZip(p, { 0: floats(1) }), 'stride0.pth'), 'stride0.pth', /repeats the 1 elements of its storage.*contiguous/);
  });

  it('5000 state_dict entries viewing one 1M-float storage are refused by the decode budget', async () => {
    const p = new Pickle().tensor('0', 1 << 20, 0, [1 << 20], [1]).put(0).raw(0x30).emptyDict().mark();
    for (let i = 0; i < 5000; i++) p.str(`layer${i}.weight`).get(0);
    p.setitems();
    const file = torchZip(p.stop(), { 0: floats(1 << 20) });
    await expectRefused(() => readTorch(file, 'shared.pth'), 'shared.pth', /would decode \d+ more values, more than a \d+-byte file can hold/);
  });

  it('a 100k-long size tuple reused by many tensors is refused by its rank', async () => {
    const p = new Pickle().emptyDict().mark();
    for (let i = 0; i < 100_000; i++) p.raw(0x4b, 1); // BININT1 1
    p.tuple().put(0).raw(0x30);
    for (let i = 0; i < 1000; i++) {
      p.str(`t${i}`).global('torch._utils', '_rebuild_tensor_v2').mark().mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(1).tuple().raw(0x51);
      p.int(0).get(0).get(0).tuple().reduce().setitem();
    }
    await expectRefused(() => readTorch(torchZip(p.stop(), { 0: floats(1) }), 'rank.pth'), 'rank.pth', /not a tuple of at most 64 integers/);
  });

  it('a negative storage offset is refused', async () => {
    const p = new Pickle().emptyDict().str('w').tensor('0', 4, -5, [2], [1]).setitem().stop();
    await expectRefused(() => readTorch(torchZip(p, { 0: floats(4) }), 'offset.pth'), 'offset.pth', /offset is not a non-negative integer/);
  });
});

describe('security: ZIP bombs and lying ZIP directories', () => {
  const pickle = new Pickle().emptyDict().str('w').tensor('0', 4, 0, [4], [1]).setitem().stop();

  it('an entry claiming 2 GiB from a few bytes is refused before allocating', async () => {
    const file = zip([{ name: 'archive/data.pkl', data: pickle, deflate: true, claimedSize: 2 ** 31 - 1 }, { name: 'archive/data/0', data: floats(4) }]);
    expect(file.length).to.be.below(400);
    await expectRefused(() => readTorch(file, 'claims.pth'), 'claims.pth', /would inflate \d+ bytes to 2147483647, more than 100x .* zip bomb/);
  });

  it('a real zip bomb (200 MB of zeros deflated to 200 KB) is refused before inflating', async () => {
    const parts: Uint8Array[] = [];
    const d = new Deflate({ level: 9 }, (chunk) => { parts.push(chunk); });
    const mb = new Uint8Array(1 << 20);
    for (let i = 0; i < 200; i++) d.push(mb);
    d.push(new Uint8Array(0), true);
    const compressed = concat(...parts);
    // A hand-made archive: the deflated bytes as they are, with their true inflated size.
    const base = zip([{ name: 'archive/data.pkl', data: compressed }]);
    const v = new DataView(base.buffer);
    v.setUint16(8, 8, true); // local header: method deflate
    v.setUint32(22, 200 << 20, true); // local header: size
    const cd = v.getUint32(base.length - 22 + 16, true);
    v.setUint16(cd + 10, 8, true); // central: method
    v.setUint32(cd + 24, 200 << 20, true); // central: size
    expect(base.length).to.be.below(1 << 20);
    await expectRefused(() => readTorch(base, 'bomb.pth'), 'bomb.pth', /would inflate \d+ bytes to 209715200, more than 100x/);
  });

  it('1000 directory entries sharing one storage\'s bytes (overlapping files) are refused', async () => {
    const aliases: [string, number][] = Array.from({ length: 1000 }, (_, i) => [`archive/data/${i + 1}`, 1]);
    const file = zip([{ name: 'archive/data.pkl', data: pickle }, { name: 'archive/data/0', data: floats(1 << 18) }], aliases);
    await expectRefused(() => readTorch(file, 'overlap.pth'), 'overlap.pth', /ZIP entries "archive\/data\/\d+" and "archive\/data\/\d+" overlap/);
  });

  it('an entry inflating to fewer or more bytes than its directory says is refused', async () => {
    for (const [claimed, re] of [[pickle.length + 10, /inflates to \d+ bytes, its directory says/], [pickle.length - 10, /inflates to more than \d+ bytes/]] as const) {
      const file = zip([{ name: 'archive/data.pkl', data: pickle, deflate: true, claimedSize: claimed }, { name: 'archive/data/0', data: floats(4) }]);
      await expectRefused(() => readTorch(file, 'size.pth'), 'size.pth', re);
    }
  });

  it('two entries with the same name are refused', async () => {
    const file = zip([{ name: 'archive/data.pkl', data: pickle }, { name: 'archive/data/0', data: floats(4) }, { name: 'archive/data/0', data: floats(4) }]);
    await expectRefused(() => readTorch(file, 'dup.pth'), 'dup.pth', /appears twice/);
  });
});

describe('security: safetensors and .npy length fields are checked against the file', () => {
  const header = (json: unknown, data = new Uint8Array(0)): Uint8Array => {
    const text = enc.encode(typeof json === 'string' ? json : JSON.stringify(json));
    const out = concat(new Uint8Array(8), text, data);
    new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
    return out;
  };

  it('a 10-byte safetensors whose header length claims 100 GB is refused at once', async () => {
    const ten = new Uint8Array(10);
    new DataView(ten.buffer).setBigUint64(0, 100_000_000_000n, true);
    await expectRefused(() => readSafetensors(ten, 'ten.safetensors'), 'ten.safetensors', /header length 100000000000 is implausible/);
  });

  it('a 90-byte safetensors whose header describes a 100 GB tensor is refused at once', async () => {
    const file = header({ w: { dtype: 'F32', shape: [25_000_000_000], data_offsets: [0, 100_000_000_000] } });
    expect(file.length).to.be.below(100);
    await expectRefused(() => readSafetensors(file, 'huge.safetensors'), 'huge.safetensors', /25000000000\+ elements .* more than any supported tensor/);
    const fits = header({ w: { dtype: 'F32', shape: [250_000_000], data_offsets: [0, 1_000_000_000] } });
    await expectRefused(() => readSafetensors(fits, 'big.safetensors'), 'big.safetensors', /data \[0, 1000000000\) lies outside the 0-byte data block/);
  });

  it('2000 tensors over the same bytes are refused (no output amplification)', async () => {
    const json: Record<string, unknown> = {};
    for (let i = 0; i < 2000; i++) json[`t${i}`] = { dtype: 'F32', shape: [1 << 18], data_offsets: [0, 1 << 20] };
    await expectRefused(() => readSafetensors(header(json, new Uint8Array(1 << 20)), 'overlap.safetensors'), 'overlap.safetensors', /tensors "t\d+" and "t\d+" overlap/);
  });

  it('prototype keys as dtypes and deeply nested JSON values are plain errors', async () => {
    await expectRefused(() => readSafetensors(header({ w: { dtype: 'constructor', shape: [1], data_offsets: [0, 4] } }, floats(1)), 'proto.safetensors'), 'proto.safetensors', /has dtype constructor/);
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    await expectRefused(() => readSafetensors(header(`{"w":{"dtype":${deep},"shape":[1],"data_offsets":[0,4]}}`, floats(1)), 'deep.safetensors'), 'deep.safetensors', /has dtype <array>/);
    await expectRefused(() => readSafetensors(header(`{"w":{"dtype":"F32","shape":[${deep}],"data_offsets":[0,4]}}`, floats(1)), 'deep2.safetensors'), 'deep2.safetensors', /invalid shape \[<array>\]/);
  });

  const npy = (text: string, data = new Uint8Array(0), version = 1): Uint8Array => {
    const h = enc.encode(text);
    const pre = version === 1 ? concat(new Uint8Array([0x93, ...enc.encode('NUMPY'), 1, 0]), new Uint8Array(new Uint16Array([h.length]).buffer))
      : concat(new Uint8Array([0x93, ...enc.encode('NUMPY'), version, 0]), new Uint8Array(new Uint32Array([h.length]).buffer));
    return concat(pre, h, data);
  };

  it('a tiny .npy claiming a 100 G-element array, a 4 GB header or trailing bytes is refused', async () => {
    await expectRefused(() => readNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 10), }\n"), 'huge.npy'), 'huge.npy', /more than any supported tensor/);
    await expectRefused(() => readNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }\n"), 'cut.npy'), 'cut.npy', /needs 4000000 bytes/);
    const v2 = npy('x', new Uint8Array(0), 2);
    new DataView(v2.buffer).setUint32(8, 0xfffffff0, true);
    await expectRefused(() => readNpy(v2, 'hdr.npy'), 'hdr.npy', /header length 4294967280 is implausible/);
    await expectRefused(() => readNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", floats(3)), 'tail.npy'), 'tail.npy', /holds 12 bytes, shape \(2\) of <f4 needs 8/);
  });
});

describe('security: shared structures cannot amplify (TFLite, ONNX, caffemodel, HDF5)', () => {
  it('a TFLite whose 100k tensors all point at one 256 KB tensor table is refused by the decode budget', async () => {
    const b = new flatbuffers.Builder(1 << 20);
    const data = b.createByteVector(new Uint8Array(1 << 18).fill(7));
    b.startObject(1); b.addFieldOffset(0, data, 0); const buffer = b.endObject();
    const name = b.createString('shared');
    b.startVector(4, 1, 4); b.addInt32(1 << 18); const shape = b.endVector();
    b.startObject(5); b.addFieldOffset(0, shape, 0); b.addFieldInt8(1, 3, 0); b.addFieldOffset(3, name, 0); const tensor = b.endObject();
    b.startVector(4, 100_000, 4); for (let i = 0; i < 100_000; i++) b.addOffset(tensor); const tensors = b.endVector();
    b.startObject(5); b.addFieldOffset(0, tensors, 0); const subgraph = b.endObject();
    b.startVector(4, 1, 4); b.addOffset(subgraph); const subgraphs = b.endVector();
    b.startVector(4, 1, 4); b.addOffset(buffer); const buffers = b.endVector();
    b.startObject(5); b.addFieldInt32(0, 3, 0); b.addFieldOffset(2, subgraphs, 0); b.addFieldOffset(4, buffers, 0); const model = b.endObject();
    b.finish(model, 'TFL3');
    const file = b.asUint8Array();
    expect(file.length).to.be.below(1 << 20);
    await expectRefused(() => readTflite(file, 'dag.tflite'), 'dag.tflite', /would decode \d+ more values, more than a \d+-byte file can hold/);
  });

  const onnxType = protobuf.parse(ONNX_PROTO).root.lookupType('onnx.ModelProto');
  const onnx = (graph: object): Uint8Array => onnxType.encode(onnxType.fromObject({ irVersion: 7, graph })).finish();
  const initializer = (name: string, n: number) => ({ name, dims: [n / 1024, 1024], dataType: 1, rawData: floats(n) });

  it('an ONNX graph of 60k nodes reading one tensor is indexed in linear time', async () => {
    const node = Array.from({ length: 60_000 }, (_, i) => ({ opType: 'Relu', input: ['x'], output: [`y${i}`] }));
    await expectRefused(() => readOnnx(onnx({ node, initializer: [] }), 'wide.onnx'), 'wide.onnx', /no Conv, Gemm or MatMul node/);
  });

  it('10k ONNX Gemm nodes transposing one 1M-float initializer are refused by the decode budget', async () => {
    const node = Array.from({ length: 10_000 }, (_, i) => ({ name: `g${i}`, opType: 'Gemm', input: ['x', 'W'], output: [`y${i}`] }));
    await expectRefused(() => readOnnx(onnx({ node, initializer: [initializer('W', 1 << 20)] }), 'gemm.onnx'), 'gemm.onnx', /would decode \d+ more values/);
  });

  it('caffemodel BatchNorm without its blobs and blobs with negative dimensions are CnnZooErrors', async () => {
    const T = protobuf.parse(CAFFE_PROTO).root.lookupType('caffe.NetParameter');
    const net = (layer: object) => T.encode(T.fromObject({ layer: [layer] })).finish();
    await expectRefused(() => readCaffemodel(net({ name: 'bn', type: 'BatchNorm', blobs: [{ shape: { dim: [1] }, data: [1] }] }), 'bn.caffemodel'), 'bn.caffemodel', /BatchNorm layer "bn" has 1 blob/);
    await expectRefused(() => readCaffemodel(net({ name: 'c', type: 'Convolution', blobs: [{ shape: { dim: [-1, -4] }, data: [1, 2, 3, 4] }] }), 'neg.caffemodel'), 'neg.caffemodel', /invalid shape \[-1, -4\]/);
  });

  /** A Keras-style .h5 built with h5wasm (in memory). */
  async function kerasH5(build: (root: import('h5wasm').Group) => void): Promise<Uint8Array> {
    const h5 = await import('h5wasm');
    await h5.ready;
    const path = `/tmp/hostile-${Math.random().toString(36).slice(2)}.h5`;
    const f = new h5.File(path, 'w');
    build(f.create_group('model_weights'));
    f.close();
    const bytes = h5.FS!.readFile(path) as Uint8Array;
    h5.FS!.unlink(path);
    return bytes;
  }

  it('an HDF5 dataset resized to 2^28 elements (1 GB) with no data stored is refused before reading', async () => {
    const file = await kerasH5((root) => {
      root.create_attribute('layer_names', ['conv1']);
      const layer = root.create_group('conv1');
      layer.create_attribute('weight_names', ['conv1/kernel:0']);
      const ds = layer.create_group('conv1').create_dataset({ name: 'kernel:0', data: new Float32Array([1]), shape: [1], maxshape: [null], chunks: [1024] });
      ds.resize([2 ** 28]);
    });
    expect(file.length).to.be.below(64 << 10);
    await expectRefused(() => readKerasH5(file, 'fill.h5'), 'fill.h5', /claims 1073741824 bytes \(shape \[268435456\]\) but the file has \d+/);
  });

  it('an HDF5 file that makes the HDF5 library loop (found by fuzzing) is stopped after its CPU-time limit', async () => {
    const name = 'mobilenet_v1_0.25_224.h5';
    const ok = new Uint8Array(readFileSync(join(SHARED, 'weights', 'keras-mobilenet_v1_0.25_224', name)));
    // Two 373-byte runs swapped: the model_config attribute's string now points into a damaged global heap.
    const bad = ok.slice();
    bad.set(ok.subarray(2_158_917, 2_158_917 + 373), 2114);
    bad.set(ok.subarray(2114, 2114 + 373), 2_158_917);
    // The limit counts the worker thread's CPU time, so a busy machine delays the refusal but never causes it.
    await expectRefused(() => readKerasH5(bad, 'loop.h5', { cpuTimeMs: 1500 }), 'loop.h5', /HDF5 did not finish reading it within 1\.5 s of CPU time \(a damaged file can make the HDF5 library loop\)/);
    // The looping worker was stopped; the next file gets a fresh one.
    expect((await readKerasH5(ok, name)).stateDict.size).to.equal(137);
  });

  it('an HDF5 layer that is an external link to another file is not followed', async () => {
    const file = await kerasH5((root) => {
      root.create_attribute('layer_names', ['stolen']);
      root.create_external_link('/etc/passwd', '/', 'stolen');
    });
    await expectRefused(() => readKerasH5(file, 'link.h5'), 'link.h5', /layer "stolen" is not a group \(links to other files are not followed\)/);
  });
});
