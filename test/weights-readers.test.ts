/**
 * Checkpoint readers: every file of shared/fixtures/checkpoints reads to exactly its fixture's
 * state_dict, and the model converted from it reproduces the fixture's logits; corrupt, truncated and
 * unsupported files fail with a CnnZooError naming the file and the problem.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../src/backend.js';
import { CnnZooError } from '../src/errors.js';
import { loadFixture } from '../src/parity/fixture.js';
import { runParity } from '../src/parity/run.js';
import { readTorch } from '../src/checkpoints/torch.js';
import { unpickle } from '../src/checkpoints/pickle.js';
import { ByteReader } from '../src/checkpoints/bytes.js';
import { readSafetensors } from '../src/checkpoints/safetensors.js';
import { readNpy, writeNpy } from '../src/checkpoints/npy.js';
import { readTflite, dequantize, tfliteStateDict } from '../src/checkpoints/tflite.js';
import * as flatbuffers from 'flatbuffers';
import { readOnnx } from '../src/checkpoints/onnx.js';
import { ONNX_PROTO } from '../src/checkpoints/onnx-proto.js';
import protobuf from 'protobufjs';
import { readKerasH5 } from '../src/checkpoints/h5.js';
import { readCaffemodel } from '../src/checkpoints/caffe.js';
import type { StateDict } from '../src/arrays.js';
import { fixturePath, SHARED } from './helpers/shared.js';

const CK = join(SHARED, 'fixtures', 'checkpoints');
const W = join(SHARED, 'weights');
const bytes = (p: string) => new Uint8Array(readFileSync(p));

function expectSameStateDict(ours: StateDict, ref: StateDict): void {
  expect([...ours.keys()]).to.deep.equal([...ref.keys()]);
  for (const [k, v] of ref) {
    const o = ours.get(k)!;
    expect(o.shape, k).to.deep.equal(v.shape);
    expect(Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength).equals(Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength)), `${k} bit-exact`).to.equal(true);
  }
}

/** Throws a CnnZooError whose message names `name` and matches `re`. */
function expectRefused(fn: () => unknown, name: string, re: RegExp): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err, `${name} should be refused`).to.be.instanceOf(CnnZooError);
  expect((err as Error).message).to.contain(name).and.to.match(re);
}
async function expectRefusedAsync(fn: () => Promise<unknown>, name: string, re: RegExp): Promise<void> {
  let err: unknown;
  try { await fn(); } catch (e) { err = e; }
  expect(err, `${name} should be refused`).to.be.instanceOf(CnnZooError);
  expect((err as Error).message).to.contain(name).and.to.match(re);
}

describe('weights: PyTorch and safetensors checkpoints reproduce their fixtures', () => {
  before(async () => { await useBackend('wasm'); });
  const cases: [string, string, (b: Uint8Array, s: string) => StateDict][] = [
    ['squeezenet1_1.pth', 'squeezenet1_1', readTorch],
    ['shufflenet_v1_g3_0_5x.legacy.pth', 'shufflenet_v1_g3_0_5x', readTorch],
    ['timm_mobilenetv1_025.wrapped.pth', 'timm_mobilenetv1_025', readTorch],
    ['timm_mobilenetv1_025.safetensors', 'timm_mobilenetv1_025', readSafetensors],
  ];
  for (const [file, fixture, read] of cases) {
    it(`${file}: the fixture's exact state_dict, and the converted model reproduces ${fixture}`, async () => {
      const fx = await loadFixture(fixturePath(fixture));
      const sd = read(bytes(join(CK, file)), file);
      expectSameStateDict(sd, fx.stateDict);
      const r = await runParity({ ...fx, stateDict: sd });
      console.log(`      ${file}: max_rel_err ${r.maxRelErr.toExponential(3)} (tolerance ${fx.tolerance})`);
      expect(r.maxRelErr).to.be.below(fx.tolerance);
      expect(r.top5Agree).to.equal(true);
    });
  }

  it('refuses a pickled whole module, saying how to save a state_dict', () => {
    expectRefused(() => readTorch(bytes(join(CK, 'whole_module.pth')), 'whole_module.pth'), 'whole_module.pth',
      /pickled whole model .*torch\.nn\.modules\.container\.Sequential.*torch\.save\(model\.state_dict\(\), path\)/s);
  });

  it('refuses pickles naming globals outside the allow-list, by name', () => {
    // PROTO 2, GLOBAL 'os system', EMPTY_TUPLE, REDUCE, STOP: would run code in Python.
    const evil = new Uint8Array([0x80, 0x02, 0x63, ...Buffer.from('os\nsystem\n'), 0x29, 0x52, 0x2e]);
    expectRefused(() => readTorch(evil, 'evil.pth'), 'evil.pth', /global os\.system/);
  });

  it('reads protocol-0 pickle text as Python writes it: Latin-1 bytes and raw-unicode-escape, on every Node', () => {
    // pickle.dumps(['\x85\xe9 caf\xe9', '\u0100\\ \n\U0001F600'], 0) from Python 3: bytes 0x80-0x9f are Latin-1 code points
    // (TextDecoder('latin1') is windows-1252 from Node 22 on), other characters \u and \U escapes.
    const bytes = Buffer.concat([Buffer.from('(lp0\nV', 'latin1'), Buffer.from([0x85, 0xe9]), Buffer.from(' caf\xe9\np1\naV\\u0100\\u005c \\u000a\\U0001f600\np2\na.', 'latin1')]);
    const opts = { globals: new Map(), refuse: (m: string, n: string) => { throw new Error(`${m}.${n}`); }, source: 'x.pkl' };
    expect(unpickle(new ByteReader(bytes, 'x.pkl'), opts)).to.deep.equal(['\x85\xe9 caf\xe9', '\u0100\\ \n\u{1F600}']);
    const beyond = Buffer.from('V\\U00110000\n.', 'latin1');
    expectRefused(() => unpickle(new ByteReader(beyond, 'x.pkl'), opts), 'x.pkl', /UNICODE escape/);
  });

  it('refuses truncated and foreign files with the file name', () => {
    const zip = bytes(join(CK, 'squeezenet1_1.pth'));
    expectRefused(() => readTorch(zip.subarray(0, zip.length - 100), 'cut.pth'), 'cut.pth', /truncated|corrupt/);
    expectRefused(() => readTorch(zip.subarray(0, 3000), 'cut2.pth'), 'cut2.pth', /truncated|corrupt/);
    const legacy = bytes(join(CK, 'shufflenet_v1_g3_0_5x.legacy.pth'));
    expectRefused(() => readTorch(legacy.subarray(0, legacy.length - 10), 'cut.legacy.pth'), 'cut.legacy.pth', /needs \d+ bytes/);
    expectRefused(() => readTorch(legacy.subarray(0, 400), 'cut2.legacy.pth'), 'cut2.legacy.pth', /corrupt/);
    expectRefused(() => readTorch(bytes(join(SHARED, 'images', 'owl.jpg')), 'owl.jpg'), 'owl.jpg', /not a PyTorch checkpoint/);
    const st = bytes(join(CK, 'timm_mobilenetv1_025.safetensors'));
    expectRefused(() => readSafetensors(st.subarray(0, st.length - 4), 'cut.safetensors'), 'cut.safetensors', /outside the \d+-byte data block/);
    expectRefused(() => readSafetensors(st.subarray(0, 50), 'head.safetensors'), 'head.safetensors', /needs \d+ bytes/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expectRefused(() => readSafetensors(huge, 'huge.safetensors'), 'huge.safetensors', /implausible/);
  });
});

describe('weights: npy, TFLite, ONNX, Keras h5 and caffemodel readers', () => {
  it('reads .npy (C and Fortran order) and round-trips writeNpy', () => {
    const a = readNpy(bytes(join(W, 'onnx-squeezenet1.1-npy', 'weights', 'squeezenet0_conv0_weight.npy')));
    expect(a.shape).to.deep.equal([64, 3, 3, 3]);
    const back = readNpy(writeNpy(a));
    expect(back.shape).to.deep.equal(a.shape);
    expect(Array.from(back.data)).to.deep.equal(Array.from(a.data));
    const f = writeNpy({ shape: [2, 3], data: Float32Array.from([1, 4, 2, 5, 3, 6]) });
    const text = Buffer.from(f).toString('latin1').replace("'fortran_order': False", "'fortran_order': True "); // byte = code point
    expect(Array.from(readNpy(Buffer.from(text, 'latin1')).data)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expectRefused(() => readNpy(f.subarray(0, f.length - 1), 'cut.npy'), 'cut.npy', /needs 24 bytes/);
    expectRefused(() => readNpy(bytes(join(SHARED, 'images', 'owl.jpg')), 'owl.jpg'), 'owl.jpg', /not a \.npy file/);
  });

  it('reads TFLite tensors and ops, dequantizing uint8 (per tensor) and per channel', () => {
    const m = readTflite(bytes(join(W, 'tflite-mobilenet', 'mobilenet_v1_0.25_128_quant.tflite')));
    expect(m.ops.filter((o) => o.op === 'DEPTHWISE_CONV_2D')).to.have.length(13);
    const w = m.tensors[m.ops[0]!.inputs[1]!]!;
    expect(w.shape).to.deep.equal([8, 3, 3, 3]);
    expect(w.type).to.equal('uint8');
    expect(w.data!.length).to.equal(216);
    const per = dequantize(Float32Array.from([0, 10, 20, 30]), [2, 2], { scale: [0.5, 2], zeroPoint: [10, 0], dimension: 0 }, 't', 'x');
    expect(Array.from(per)).to.deep.equal([-5, 0, 40, 60]);
    const bytesT = bytes(join(W, 'tflite-mobilenet', 'mobilenet_v1_0.25_128_quant.tflite'));
    expectRefused(() => readTflite(bytesT.subarray(0, bytesT.length / 2), 'half.tflite'), 'half.tflite', /outside|past|corrupt/);
    expectRefused(() => readTflite(bytes(join(SHARED, 'images', 'owl.jpg')), 'owl.jpg'), 'owl.jpg', /not a TFLite flatbuffer/);
  });

  it('reads weights behind a DEQUANTIZE op (float16 TFLite models)', () => {
    const b = new flatbuffers.Builder(1024);
    const ints = (xs: number[]) => { b.startVector(4, xs.length, 4); for (const x of [...xs].reverse()) b.addInt32(x); return b.endVector(); };
    const table = (fields: [number, 'offset' | 'int32' | 'int8', number][]) => {
      b.startObject(8);
      for (const [i, kind, v] of fields) {
        if (kind === 'offset') b.addFieldOffset(i, v, 0); else if (kind === 'int32') b.addFieldInt32(i, v, -1); else b.addFieldInt8(i, v, -1);
      }
      return b.endObject();
    };
    const offsets = (xs: number[]) => { b.startVector(4, xs.length, 4); for (const x of [...xs].reverse()) b.addOffset(x); return b.endVector(); };
    const half = new Uint16Array([0x3c00, 0x4000, 0xbc00, 0x3800, 0x0000, 0x4200]); // 1, 2, -1, 0.5, 0, 3
    const buffers = [table([]), table([[0, 'offset', b.createByteVector(new Uint8Array(half.buffer))]]), table([[0, 'offset', b.createByteVector(new Uint8Array(Float32Array.from([0.1, 0.2, 0.3]).buffer))]])];
    const tensor = (shape: number[], type: number, buffer: number, name: string) => { const n = b.createString(name), sh = ints(shape); return table([[0, 'offset', sh], [1, 'int8', type], [2, 'int32', buffer], [3, 'offset', n]]); };
    const tensors = [tensor([1, 4, 4, 2], 0, 0, 'input'), tensor([3, 1, 1, 2], 1, 1, 'net/conv/weights_f16'), tensor([3, 1, 1, 2], 0, 0, 'net/conv/Conv2D'),
      tensor([3], 0, 2, 'net/conv/bias'), tensor([1, 4, 4, 3], 0, 0, 'output')];
    const op = (code: number, inputs: number[], outputs: number[]) => { const i = ints(inputs), o = ints(outputs); return table([[0, 'int32', code], [1, 'offset', i], [2, 'offset', o]]); };
    const ops = [op(1, [1], [2]), op(0, [0, 2, 3], [4])];
    const codes = [table([[0, 'int8', 3], [3, 'int32', 3]]), table([[0, 'int8', 6], [3, 'int32', 6]])];
    const graph = table([[0, 'offset', offsets(tensors)], [1, 'offset', ints([0])], [2, 'offset', ints([4])], [3, 'offset', offsets(ops)]]);
    const root = table([[0, 'int32', 3], [1, 'offset', offsets(codes)], [2, 'offset', offsets([graph])], [4, 'offset', offsets(buffers)]]);
    b.finish(root, 'TFL3');
    const m = readTflite(b.asUint8Array(), 'f16.tflite');
    expect(m.ops.map((o) => o.op)).to.deep.equal(['DEQUANTIZE', 'CONV_2D']);
    const { stateDict, inputSize } = tfliteStateDict(m, 'f16.tflite');
    expect(inputSize).to.equal(4);
    expect([...stateDict.keys()]).to.deep.equal(['net.conv.weight', 'net.conv.bias']);
    expect(stateDict.get('net.conv.weight')!.shape).to.deep.equal([3, 2, 1, 1]);
    expect(Array.from(stateDict.get('net.conv.weight')!.data)).to.deep.equal([1, 2, -1, 0.5, 0, 3]);
    expect(Array.from(stateDict.get('net.conv.bias')!.data)).to.deep.equal(Array.from(Float32Array.from([0.1, 0.2, 0.3])));
  });

  it('reads an int8/uint8 ONNX model (QLinearConv, QLinearMatMul + QLinearAdd) in graph order', () => {
    const r = readOnnx(bytes(join(W, 'onnx-mobilenetv2-int8', 'mobilenet_v2_quant.onnx')));
    expect(r.naming).to.equal('order');
    expect(r.inputSize).to.equal(224);
    expect(r.stateDict.size).to.equal(106);
    expect(r.stateDict.get('node52.weight')!.shape).to.deep.equal([1000, 1280]);
    const onnx = bytes(join(W, 'onnx-mobilenetv2-int8', 'mobilenet_v2_quant.onnx'));
    expectRefused(() => readOnnx(onnx.subarray(0, onnx.length - 1000), 'cut.onnx'), 'cut.onnx', /not a valid ONNX protobuf/);
  });

  it('dequantizes int8 ONNX weights behind DequantizeLinear (per axis) and keys module-path names', () => {
    const root = protobuf.parse(ONNX_PROTO).root;
    const Model = root.lookupType('onnx.ModelProto');
    const f32 = (name: string, dims: number[], v: number[]) => ({ name, dims, dataType: 1, rawData: new Uint8Array(Float32Array.from(v).buffer) });
    const i8 = (name: string, dims: number[], v: number[]) => ({ name, dims, dataType: 3, rawData: new Uint8Array(Int8Array.from(v).buffer) });
    const model = Model.encode(Model.fromObject({
      irVersion: 7,
      graph: {
        name: 'g',
        input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 3 }, { dimValue: 8 }, { dimValue: 8 }] } } } }],
        initializer: [i8('conv.weight_q', [2, 3, 1, 1], [-128, 0, 127, 10, 20, 30]), f32('s', [2], [0.5, 0.25]), i8('z', [2], [0, 10]),
          f32('conv.bias', [2], [1, 2]), f32('fc.weight', [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]), f32('fc.bias', [4], [9, 8, 7, 6])],
        node: [
          { opType: 'DequantizeLinear', name: 'dq', input: ['conv.weight_q', 's', 'z'], output: ['conv.weight'], attribute: [{ name: 'axis', i: 0, type: 2 }] },
          { opType: 'Conv', name: 'conv', input: ['x', 'conv.weight', 'conv.bias'], output: ['y'] },
          { opType: 'GlobalAveragePool', name: 'pool', input: ['y'], output: ['p'] },
          { opType: 'Flatten', name: 'flat', input: ['p'], output: ['f'] },
          { opType: 'MatMul', name: 'mm', input: ['f', 'fc.weight'], output: ['m'] },
          { opType: 'Add', name: 'add', input: ['m', 'fc.bias'], output: ['out'] },
        ],
      },
    })).finish();
    const r = readOnnx(model, 'tiny.onnx');
    expect(r.naming).to.equal('names');
    expect(r.inputSize).to.equal(8);
    expect([...r.stateDict.keys()]).to.deep.equal(['conv.weight', 'conv.bias', 'fc.weight', 'fc.bias']);
    expect(Array.from(r.stateDict.get('conv.weight')!.data)).to.deep.equal([-64, 0, 63.5, 0, 2.5, 5]);
    expect(r.stateDict.get('fc.weight')!.shape).to.deep.equal([4, 2]);
    expect(Array.from(r.stateDict.get('fc.weight')!.data)).to.deep.equal([1, 5, 2, 6, 3, 7, 4, 8]);
    // A Flatten of NCHW (PyTorch's export) leaves the columns for the mapping to reorder (cnn-zoo's NHWC: test/onnx-export).
    expect(r.stateDict.get('fc.weight')!.flattenedHWC).to.equal(undefined);
    expect(Array.from(r.stateDict.get('fc.bias')!.data)).to.deep.equal([9, 8, 7, 6]);
  });

  it('reads a Keras .h5 like the TF.js export of the same network', async () => {
    const h5 = await readKerasH5(bytes(join(W, 'keras-mobilenet_v1_0.25_224', 'mobilenet_v1_0.25_224.h5')));
    expect(h5.inputSize).to.equal(224);
    expect(h5.stateDict.get('conv_dw_1.weight')!.shape).to.deep.equal([8, 1, 3, 3]);
    expect(h5.stateDict.get('conv_preds.weight')!.shape).to.deep.equal([1000, 256, 1, 1]);
    await expectRefusedAsync(() => readKerasH5(bytes(join(SHARED, 'images', 'owl.jpg')), 'owl.h5'), 'owl.h5', /not a Keras \.h5/);
  });

  it('refuses every truncation of every format with a CnnZooError (never another exception)', () => {
    const files: [string, (b: Uint8Array, s: string) => unknown][] = [
      [join(CK, 'squeezenet1_1.pth'), readTorch], [join(CK, 'shufflenet_v1_g3_0_5x.legacy.pth'), readTorch],
      [join(CK, 'timm_mobilenetv1_025.safetensors'), readSafetensors], [join(W, 'tflite-mobilenet', 'mobilenet_v1_0.25_128_quant.tflite'), readTflite],
      [join(W, 'onnx-squeezenet1.1-npy', 'weights', 'squeezenet0_conv1_weight.npy'), readNpy], [join(W, 'onnx-mobilenetv2-int8', 'mobilenet_v2_quant.onnx'), readOnnx],
    ];
    for (const [file, read] of files) {
      const b = bytes(file);
      // (A flatbuffer has no length field: its last 0.1 % may be bytes no table points into.)
      for (const frac of [0, 0.001, 0.01, 0.1, 0.3, 0.5, 0.77, 0.9, ...(read === readTflite ? [] : [0.999])]) {
        const cut = Math.floor(b.length * frac);
        expectRefused(() => read(b.subarray(0, cut), `cut-${cut}`), `cut-${cut}`, /./);
      }
    }
  });

  it('refuses a corrupt caffemodel', () => {
    expectRefused(() => readCaffemodel(bytes(join(SHARED, 'images', 'owl.jpg')), 'owl.caffemodel'), 'owl.caffemodel', /caffemodel|corrupt/);
  });
});
