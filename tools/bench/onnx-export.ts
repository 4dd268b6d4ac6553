/**
 * A small pure-JS ONNX exporter for cnn-zoo graphs (training or inference form), so onnxruntime runs the very
 * weights cnn-zoo runs. The graph is written in PyTorch's layout (NCHW activations, OIHW kernels, opset 13):
 * input `input` [N, 3, H, W], output `logits`. Uses the ONNX proto subset of src/checkpoints/onnx-proto.ts.
 *
 * Layouts: tfjs conv kernels [kh, kw, in, out] -> [out, in, kh, kw]; depthwise [kh, kw, C, m] -> [C*m, 1, kh, kw];
 * a Dense after Flatten reads HWC-ordered rows in tfjs and CHW-ordered rows in NCHW, so its rows are permuted.
 */
import * as tf from '@tensorflow/tfjs';
import protobuf from 'protobufjs';
import { ONNX_PROTO } from '../../src/checkpoints/onnx-proto.js';
import { FusedConv2D } from '../../src/layers/fused-conv2d.js';

const FLOAT = 1, INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;

interface Attribute { name: string; type: number; f?: number; i?: number; ints?: number[] }
interface NodeDef { op_type: string; input: string[]; output: string[]; name: string; attribute: Attribute[] }
interface Initializer { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }

/** Where a tensor of the tfjs graph lives in the ONNX graph, and how its values are ordered. */
interface Value {
  name: string;
  /** A flattened H x W x C map (tfjs order) that is C x H x W in ONNX. */
  chw?: [number, number, number];
}

const ints = (name: string, v: number[]): Attribute => ({ name, type: ATTR.INTS, ints: v });
const int = (name: string, v: number): Attribute => ({ name, type: ATTR.INT, i: v });
const float = (name: string, v: number): Attribute => ({ name, type: ATTR.FLOAT, f: v });
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)]);

/** [kh, kw, in, out] -> [out, in, kh, kw]. */
function hwioToOihw(w: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh!; y++) for (let x = 0; x < kw!; x++) for (let i = 0; i < ci!; i++) for (let o = 0; o < co!; o++) {
    out[((o * ci! + i) * kh! + y) * kw! + x] = w[((y * kw! + x) * ci! + i) * co! + o]!;
  }
  return out;
}

/** TF 'same' padding as explicit [top, bottom, left, right] for an input of h x w. */
function samePads(h: number, w: number, k: [number, number], s: [number, number], d: [number, number]): [number, number, number, number] {
  const side = (n: number, kk: number, ss: number, dd: number): [number, number] => {
    const total = Math.max((Math.ceil(n / ss) - 1) * ss + (kk - 1) * dd + 1 - n, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [t, b] = side(h, k[0], s[0], d[0]);
  const [l, r] = side(w, k[1], s[1], d[1]);
  return [t, b, l, r];
}

export class UnsupportedLayer extends Error {}

class GraphWriter {
  readonly nodes: NodeDef[] = [];
  readonly initializers: Initializer[] = [];
  private n = 0;

  constant(name: string, data: Float32Array | BigInt64Array, dims: number[]): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name, dims, data_type: data instanceof BigInt64Array ? INT64 : FLOAT, raw_data: bytes.slice() });
    return name;
  }

  node(op: string, inputs: string[], output: string, attribute: Attribute[] = []): string {
    this.nodes.push({ op_type: op, input: inputs, output: [output], name: `${output}#${this.n++}`, attribute });
    return output;
  }

  activation(x: string, fn: string, out: string, alpha?: number): string {
    switch (fn) {
      case 'linear': return x === out ? x : this.node('Identity', [x], out);
      case 'relu': return this.node('Relu', [x], out);
      case 'relu6': return this.node('Clip', [x, this.scalar(`${out}.min`, 0), this.scalar(`${out}.max`, 6)], out);
      case 'sigmoid': return this.node('Sigmoid', [x], out);
      case 'tanh': return this.node('Tanh', [x], out);
      case 'elu': return this.node('Elu', [x], out, [float('alpha', 1)]);
      case 'leakyrelu': return this.node('LeakyRelu', [x], out, [float('alpha', alpha ?? 0.2)]);
      case 'swish': return this.node('Mul', [x, this.node('Sigmoid', [x], `${out}.sigmoid`)], out);
      default: throw new UnsupportedLayer(`activation "${fn}"`);
    }
  }

  scalar(name: string, v: number): string {
    return this.constant(name, new Float32Array([v]), []);
  }
}

function weights(layer: tf.layers.Layer): Map<string, { data: Float32Array; shape: number[] }> {
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const role = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
    out.set(role, { data: values[i]!.dataSync() as Float32Array, shape: values[i]!.shape });
  });
  return out;
}

/** Conv node for a tfjs conv (plain, depthwise, grouped); returns the output name before any activation. */
function conv(g: GraphWriter, layer: tf.layers.Layer, x: string, inShape: number[], out: string): string {
  const cfg = layer.getConfig();
  const cls = layer.getClassName();
  const w = weights(layer);
  const kernel = (w.get('kernel') ?? w.get('depthwise_kernel'))!;
  const k = pair(cfg.kernelSize), s = pair(cfg.strides ?? 1), d = pair(cfg.dilationRate ?? 1);
  const depthwise = cls === 'DepthwiseConv2D' || (cls === 'FusedConv2D' && (layer as FusedConv2D).depthwise);
  const cin = inShape[3]!;
  let group = 1;
  let oihw: Float32Array;
  let dims: number[];
  if (depthwise) {
    const [kh, kw, c, m] = kernel.shape as [number, number, number, number];
    // [kh, kw, C, m] is [kh, kw, 1, C*m] in memory: the same transpose as a plain conv with in = 1.
    oihw = hwioToOihw(kernel.data, [kh, kw, 1, c * m]);
    dims = [c * m, 1, kh, kw];
    group = cin;
  } else {
    oihw = hwioToOihw(kernel.data, kernel.shape);
    dims = [kernel.shape[3]!, kernel.shape[2]!, kernel.shape[0]!, kernel.shape[1]!];
    group = cin / kernel.shape[2]!;
  }
  let pads: [number, number, number, number];
  const padding = cfg.padding;
  if (Array.isArray(padding)) {
    const p = padding as [[number, number], [number, number]];
    pads = [p[0][0], p[0][1], p[1][0], p[1][1]];
  } else if (padding === 'same') {
    pads = samePads(inShape[1]!, inShape[2]!, k, s, d);
  } else {
    pads = [0, 0, 0, 0];
  }
  const inputs = [x, g.constant(`${layer.name}.weight`, oihw, dims)];
  const bias = w.get('bias');
  if (bias) inputs.push(g.constant(`${layer.name}.bias`, bias.data, [bias.data.length]));
  return g.node('Conv', inputs, out, [
    ints('kernel_shape', k), ints('strides', s), ints('dilations', d), int('group', group),
    ints('pads', [pads[0], pads[2], pads[1], pads[3]]),
  ]);
}

function pool(g: GraphWriter, mode: 'max' | 'avg', x: string, out: string, k: [number, number], s: [number, number],
  pads: [number, number, number, number], ceil: boolean, countIncludePad: boolean): string {
  const attrs = [ints('kernel_shape', k), ints('strides', s), ints('pads', [pads[0], pads[2], pads[1], pads[3]]), int('ceil_mode', ceil ? 1 : 0)];
  if (mode === 'avg') attrs.push(int('count_include_pad', countIncludePad ? 1 : 0));
  return g.node(mode === 'max' ? 'MaxPool' : 'AveragePool', [x], out, attrs);
}

/** Dense kernel [in, out] as ONNX Gemm's B ([in, out], transB 0), rows permuted from HWC to CHW if needed. */
function denseKernel(kernel: { data: Float32Array; shape: number[] }, chw?: [number, number, number]): Float32Array {
  const [inp, outp] = kernel.shape as [number, number];
  if (!chw || chw[1] * chw[2] === 1) return kernel.data;
  const [c, h, w] = chw;
  const out = new Float32Array(kernel.data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    const tfRow = (y * w + x) * c + ch, onnxRow = ch * h * w + y * w + x;
    out.set(kernel.data.subarray(tfRow * outp, (tfRow + 1) * outp), onnxRow * outp);
  }
  if (inp !== c * h * w) throw new Error(`dense input ${inp} != ${c}x${h}x${w}`);
  return out;
}

interface RawNode { inputTensors: tf.SymbolicTensor[]; outputTensors: tf.SymbolicTensor[] }

/** ONNX bytes of `model` (a cnn-zoo image classifier with one input and one output). */
export function exportOnnx(model: tf.LayersModel): Uint8Array {
  const g = new GraphWriter();
  const values = new Map<number, Value>();
  const inShape = model.inputs[0]!.shape;
  for (const layer of model.layers) {
    const node = (layer as unknown as { inboundNodes: RawNode[] }).inboundNodes[0]!;
    const ins = node.inputTensors.map((t) => values.get(t.id)!);
    const outT = node.outputTensors[0]!;
    const inputShape = (node.inputTensors[0]?.shape ?? []) as number[];
    const name = layer.name;
    const cls = layer.getClassName();
    const cfg = layer.getConfig();
    const set = (v: Value) => values.set(outT.id, v);
    const x = ins[0]?.name ?? '';
    switch (cls) {
      case 'InputLayer': set({ name: 'input' }); break;
      case 'Conv2D': case 'DepthwiseConv2D': case 'GroupedConv2D': {
        const act = String(cfg.activation ?? 'linear');
        const y = conv(g, layer, x, inputShape, act === 'linear' ? name : `${name}.conv`);
        set({ name: g.activation(y, act, name) });
        break;
      }
      case 'FusedConv2D': {
        const f = layer as FusedConv2D;
        let y = conv(g, layer, x, inputShape, f.residual || f.activation !== 'linear' ? `${name}.conv` : name);
        if (f.residual) y = g.node('Add', [y, ins[1]!.name], f.activation === 'linear' ? name : `${name}.add`);
        set({ name: g.activation(y, f.activation, name, f.leakyreluAlpha) });
        break;
      }
      case 'Dense': case 'FusedDense': {
        const w = weights(layer);
        const kernel = w.get('kernel')!;
        const inputs = [x, g.constant(`${name}.weight`, denseKernel(kernel, ins[0]!.chw), kernel.shape)];
        const bias = w.get('bias');
        if (bias) inputs.push(g.constant(`${name}.bias`, bias.data, [bias.data.length]));
        const act = String(cfg.activation ?? 'linear');
        const y = g.node('Gemm', inputs, act === 'linear' ? name : `${name}.gemm`);
        set({ name: g.activation(y, act, name, cfg.leakyreluAlpha as number | undefined) });
        break;
      }
      case 'BatchNormalization': {
        const w = weights(layer);
        const c = w.get('moving_mean')!.data.length;
        const gamma = w.get('gamma')?.data ?? new Float32Array(c).fill(1);
        const beta = w.get('beta')?.data ?? new Float32Array(c);
        set({ name: g.node('BatchNormalization', [x, g.constant(`${name}.weight`, gamma, [c]), g.constant(`${name}.bias`, beta, [c]),
          g.constant(`${name}.running_mean`, w.get('moving_mean')!.data, [c]), g.constant(`${name}.running_var`, w.get('moving_variance')!.data, [c])],
        name, [float('epsilon', Number(cfg.epsilon ?? 1e-3))]) });
        break;
      }
      case 'ReLU': {
        const max = cfg.maxValue as number | null | undefined;
        if (max !== null && max !== undefined && max !== 6) throw new UnsupportedLayer(`ReLU(maxValue ${max})`);
        set({ name: g.activation(x, max === 6 ? 'relu6' : 'relu', name) });
        break;
      }
      case 'Activation': set({ name: g.activation(x, String(cfg.activation), name), chw: ins[0]!.chw }); break;
      case 'Dropout': set(ins[0]!); break;
      case 'ZeroPadding2D': {
        const p = cfg.padding as [[number, number], [number, number]];
        const pads = g.constant(`${name}.pads`, new BigInt64Array([0, 0, p[0][0], p[1][0], 0, 0, p[0][1], p[1][1]].map(BigInt)), [8]);
        set({ name: g.node('Pad', [x, pads], name) });
        break;
      }
      case 'MaxPooling2D': case 'AveragePooling2D': {
        const k = pair(cfg.poolSize), s = pair(cfg.strides ?? cfg.poolSize);
        const pads = cfg.padding === 'same' ? samePads(inputShape[1]!, inputShape[2]!, k, s, [1, 1]) : [0, 0, 0, 0] as [number, number, number, number];
        set({ name: pool(g, cls === 'MaxPooling2D' ? 'max' : 'avg', x, name, k, s, pads, false, false) });
        break;
      }
      case 'Pool2D': {
        const p = cfg.padding as [[number, number], [number, number]];
        set({ name: pool(g, cfg.mode as 'max' | 'avg', x, name, pair(cfg.poolSize), pair(cfg.strides), [p[0][0], p[0][1], p[1][0], p[1][1]],
          Boolean(cfg.ceilMode), Boolean(cfg.countIncludePad)) });
        break;
      }
      case 'AdaptiveAvgPool2D': {
        const [oh, ow] = pair(cfg.outputSize);
        const [h, w] = [inputShape[1]!, inputShape[2]!];
        if (h === oh && w === ow) set({ name: g.node('Identity', [x], name) });
        else if (oh === 1 && ow === 1) set({ name: g.node('GlobalAveragePool', [x], name) });
        else if (h % oh === 0 && w % ow === 0) set({ name: pool(g, 'avg', x, name, [h / oh, w / ow], [h / oh, w / ow], [0, 0, 0, 0], false, true) });
        else throw new UnsupportedLayer(`AdaptiveAvgPool2D ${h}x${w} -> ${oh}x${ow}`);
        break;
      }
      case 'GlobalAveragePooling2D': case 'GlobalMaxPooling2D': {
        const p = g.node(cls === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x], `${name}.pool`);
        set({ name: g.node('Flatten', [p], name, [int('axis', 1)]) });
        break;
      }
      case 'Flatten': {
        const [h, w, c] = [inputShape[1]!, inputShape[2]!, inputShape[3]!];
        set({ name: g.node('Flatten', [x], name, [int('axis', 1)]), chw: [c, h, w] });
        break;
      }
      case 'Add': set({ name: ins.length === 2 ? g.node('Add', ins.map((v) => v.name), name) : g.node('Sum', ins.map((v) => v.name), name) }); break;
      case 'Multiply': set({ name: ins.slice(1).reduce((acc, v, i) => g.node('Mul', [acc, v.name], i === ins.length - 2 ? name : `${name}.${i}`), ins[0]!.name) }); break;
      case 'Concatenate': set({ name: g.node('Concat', ins.map((v) => v.name), name, [int('axis', 1)]) }); break;
      default: throw new UnsupportedLayer(`layer "${name}" (${cls}) has no ONNX export`);
    }
  }
  const output = values.get(model.outputs[0]!.id)!.name;
  g.node('Identity', [output], 'logits');
  const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
  const ModelProto = root.lookupType('onnx.ModelProto');
  const tensorType = (dims: (number | string)[]) => ({ tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } });
  const outShape = model.outputs[0]!.shape;
  const message = ModelProto.fromObject({
    ir_version: 8, producer_name: 'cnn-zoo tools/bench/onnx-export', producer_version: '1',
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: model.name, node: g.nodes, initializer: g.initializers,
      input: [{ name: 'input', type: tensorType(['N', inShape[3]!, inShape[1]!, inShape[2]!]) }],
      output: [{ name: 'logits', type: tensorType(['N', outShape[outShape.length - 1]!]) }],
    },
  });
  return ModelProto.encode(message).finish();
}
