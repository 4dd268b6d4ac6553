/**
 * ONNX export of a cnn-zoo `tf.LayersModel` (training form or the inference form of `toInference`), so
 * onnxruntime (or any ONNX runtime) runs the very weights cnn-zoo runs. Pure JavaScript, opset 13.
 *
 * The graph: input `input` [N, H, W, 3] float32, NHWC exactly as the tfjs model takes it (`layout: 'NCHW'`
 * gives [N, 3, H, W] instead), transposed once to NCHW, PyTorch's layout, inside the graph; every conv runs NCHW
 * with OIHW kernels. The batch axis is dynamic (`N`). Outputs: `logits` [N, classes] (or `features` when the
 * model ends in a feature map), then one output per requested layer, named `features/<layer>` (`embedding` for the
 * pooled features `embed()` returns, when asked for by that name), in the input's layout. `metadata_props` hold the model's
 * `userDefinedMetadata.cnnZoo` as JSON under `cnnZoo` (preprocessing, labels, class offset, source, licence) and the
 * inputs/outputs with their layouts under `cnnZoo.io`.
 *
 * Layouts: tfjs conv kernels [kh, kw, in, out] -> [out, in, kh, kw]; depthwise [kh, kw, C, m] -> [C*m, 1, kh, kw];
 * grouped [kh, kw, in/g, out] -> [out, in/g, kh, kw]; Flatten/Reshape of a feature map go through NHWC order,
 * so a Dense after them reads its rows in tfjs order. Every layer class has one entry in `LAYERS`.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, checkLayersModel, checkOptionKinds, checkOptionNames, shown } from '../errors.js';
import { embeddingLayer, featureStages, hasClassifier } from '../zoo/heads.js';
import { transpose } from '../arrays.js';
import { adaptiveBins } from '../layers/adaptive-avg-pool2d.js';
import { activationQuant, quantizePerChannel, tapCoverage, toFloat16, weightRoundingShift, type ActivationQuant, type Int8Calibration } from './quantize.js';
import { AttrType, DataType, encodeModel, type Attribute, type NodeDef, type TensorDef, type ValueInfoDef } from './proto.js';

export type OnnxLayout = 'NHWC' | 'NCHW';

export interface OnnxExportOptions {
  /**
   * Extra outputs: layer names (their outputs `features/<layer>`, e.g. feature stages) and `'embedding'` (the output
   * `embedding`: the pooled features `embed()` returns, `embeddingLayer`), or `'features'` for the model's feature
   * stages (`featureStages`: a block's output at each reduction 2..32, classifier convs included) and its embedding. For
   * exactly the stages `ZooModel.features()` gives, pass `[...zoo.stages.map((s) => s.layer), 'embedding']`, as
   * `cnn-zoo export --features` does.
   */
  outputs?: readonly string[] | 'features';
  /** Layout of the input and of 4-D outputs (default NHWC, as the tfjs model). */
  layout?: OnnxLayout;
  /** Extra `metadata_props` entries (string values). */
  metadata?: Readonly<Record<string, string>>;
  /** Graph name (default: the model's name). */
  name?: string;
  /** Name of the graph input (default `input`; e.g. `pixel_values`, which transformers.js feeds). */
  inputName?: string;
  /**
   * Static int8 (QDQ): what `calibrate` measured. Conv/dense weights become int8 per output channel with their
   * biases corrected for the rounding's mean shift and stored int32, calibrated activations uint8 (src/onnx/quantize.ts).
   */
  int8?: Int8Calibration;
  /**
   * Conv/dense weights and biases stored as float16 (half the file, e.g. for WebGPU downloads), each cast to float32
   * in the graph, so the arithmetic stays float32 on the float16-rounded weights. Not with `int8`.
   */
  fp16?: boolean;
}

export const ONNX_EXPORT_OPTIONS = ['outputs', 'layout', 'metadata', 'name', 'inputName', 'int8', 'fp16'] as const satisfies readonly (keyof OnnxExportOptions)[];
export const ONNX_OPSET = 13;

/**
 * A tensor of the tfjs graph in the ONNX graph: its name and tfjs shape (rank-4 values are NCHW in ONNX), and with
 * int8 its uint8 quantization and per-channel calibration mean.
 */
interface Value { name: string; shape: readonly (number | null)[]; q?: ActivationQuant; mean?: Float32Array }

const ints = (name: string, v: number[]): Attribute => ({ name, type: AttrType.INTS, ints: v });
const int = (name: string, v: number): Attribute => ({ name, type: AttrType.INT, i: v });
const float = (name: string, v: number): Attribute => ({ name, type: AttrType.FLOAT, f: v });
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)]);
const TO_NCHW = [0, 3, 1, 2], TO_NHWC = [0, 2, 3, 1];
/** A tfjs axis of a rank-4 NHWC tensor -> the axis of the same tensor in NCHW. */
const nchwAxis = (axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  return rank === 4 ? [0, 2, 3, 1][a]! : a;
};

function unsupported(layer: tf.layers.Layer, why: string): CnnZooError {
  return new CnnZooError(`ONNX export: layer "${layer.name}" (${layer.getClassName()}) ${why}. ` +
    'Export supports the layers cnn-zoo models are built from; replace this layer or export the model without it.', 'UNSUPPORTED_LAYER');
}

/** [kh, kw, in, out] -> [out, in, kh, kw]. */
const hwioToOihw = (w: Float32Array, shape: readonly number[]): Float32Array => transpose(w, shape, [3, 2, 0, 1]);

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

/** [top, bottom, left, right] of a tfjs padding config ('same', 'valid' or [[t, b], [l, r]]). */
function explicitPads(padding: unknown, inShape: readonly (number | null)[], k: [number, number], s: [number, number], d: [number, number]): [number, number, number, number] {
  if (Array.isArray(padding)) {
    const p = padding as [[number, number], [number, number]];
    return [p[0][0], p[0][1], p[1][0], p[1][1]];
  }
  if (padding === 'same') return samePads(inShape[1]!, inShape[2]!, k, s, d);
  return [0, 0, 0, 0];
}

/** ONNX `pads` of a 2-D op: [top, left, bottom, right]. */
const onnxPads = ([t, b, l, r]: readonly number[]): number[] => [t!, l!, b!, r!];

class GraphWriter {
  readonly nodes: NodeDef[] = [];
  readonly initializers: TensorDef[] = [];
  private readonly used = new Set<string>();

  /** Claim `name` for a graph input or output, so no inner value takes it. */
  reserve(name: string): string {
    if (this.used.has(name)) throw new CnnZooError(`exportOnnx: two outputs are named "${name}"; list each layer once.`, 'BAD_OPTION');
    this.used.add(name);
    return name;
  }

  /** `base`, or `base#2`, `base#3`... if taken. */
  unique(base: string): string {
    let name = base;
    for (let i = 2; this.used.has(name); i++) name = `${base}#${i}`;
    this.used.add(name);
    return name;
  }

  /** Conv/dense weights as float16 (`fp16` option). */
  fp16 = false;

  /** An initializer; a Uint16Array holds float16 bits. */
  constant(name: string, data: Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array | Uint16Array, dims: number[]): string {
    const unique = this.unique(name);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const dataType = data instanceof BigInt64Array ? DataType.INT64 : data instanceof Int32Array ? DataType.INT32
      : data instanceof Int8Array ? DataType.INT8 : data instanceof Uint8Array ? DataType.UINT8 : data instanceof Uint16Array ? DataType.FLOAT16 : DataType.FLOAT;
    this.initializers.push({ name: unique, dims, dataType, raw });
    return unique;
  }

  /** QuantizeLinear + DequantizeLinear of an activation (uint8, per tensor). */
  fakeQuant(x: string, q: ActivationQuant, out: string): string {
    const scale = this.scalar(`${out}.scale`, q.scale);
    const zp = this.constant(`${out}.zero_point`, new Uint8Array([q.zeroPoint]), []);
    return this.node('DequantizeLinear', [this.node('QuantizeLinear', [x, scale, zp], `${out}.quantized`), scale, zp], `${out}.dequantized`);
  }

  /**
   * The weight (and bias) inputs of a Conv/Gemm reading `x`: float, or with `x` quantized int8 per channel along
   * `axis` and int32 biases (corrected by `x`'s channel means when it has them; `group` as the Conv's), each behind
   * a DequantizeLinear.
   */
  weightInputs(name: string, w: Float32Array, dims: number[], axis: 0 | 1, bias: Float32Array | undefined, x: Value, group = 1, taps?: Float32Array): string[] {
    const xq = x.q;
    if (!xq && this.fp16) {
      const half = (role: string, v: Float32Array, d: number[]) =>
        this.node('Cast', [this.constant(`${name}.${role}_fp16`, toFloat16(v), d)], `${name}.${role}`, [int('to', DataType.FLOAT)]);
      return [half('weight', w, dims), ...(bias ? [half('bias', bias, [bias.length])] : [])];
    }
    if (!xq) return [this.constant(`${name}.weight`, w, dims), ...(bias ? [this.constant(`${name}.bias`, bias, [bias.length])] : [])];
    const { q, scales } = quantizePerChannel(w, dims, axis);
    const n = scales.length;
    if (x.mean) { // bias correction: take back the mean shift that rounding the weights puts on each output channel
      const shift = weightRoundingShift(w, q, scales, dims, axis, x.mean, group, taps);
      bias = Float32Array.from(bias ?? new Float32Array(n), (b, o) => b - shift[o]!);
    }
    const weight = this.node('DequantizeLinear', [this.constant(`${name}.weight_int8`, q, dims), this.constant(`${name}.weight_scale`, scales, [n]),
      this.constant(`${name}.weight_zero_point`, new Int8Array(n), [n])], `${name}.weight`, [int('axis', axis)]);
    if (!bias) return [weight];
    const biasScales = scales.map((s) => s * xq.scale);
    const biasQ = Int32Array.from(bias, (b, i) => Math.round(b / biasScales[i]!));
    return [weight, this.node('DequantizeLinear', [this.constant(`${name}.bias_int32`, biasQ, [n]), this.constant(`${name}.bias_scale`, biasScales, [n]),
      this.constant(`${name}.bias_zero_point`, new Int32Array(n), [n])], `${name}.bias`, [int('axis', 0)])];
  }

  int64s(name: string, v: readonly number[]): string {
    return this.constant(name, BigInt64Array.from(v.map((x) => BigInt(x))), [v.length]);
  }

  scalar(name: string, v: number): string {
    return this.constant(name, new Float32Array([v]), []);
  }

  /** A node with one output named `output` (made unique), or exactly `reserved` (see `reserve`). */
  node(op: string, inputs: string[], output: string, attributes: Attribute[] = [], reserved = false): string {
    const out = reserved ? output : this.unique(output);
    this.nodes.push({ opType: op, inputs, outputs: [out], name: out, attributes });
    return out;
  }

  /** `fn` applied to x (an identity for 'linear'). */
  activation(x: string, fn: string, out: string, layer: tf.layers.Layer, alpha?: number): string {
    switch (fn) {
      case 'linear': return x;
      case 'relu': return this.node('Relu', [x], out);
      case 'relu6': return this.node('Clip', [x, this.scalar(`${out}.min`, 0), this.scalar(`${out}.max`, 6)], out);
      case 'sigmoid': return this.node('Sigmoid', [x], out);
      case 'tanh': return this.node('Tanh', [x], out);
      case 'elu': return this.node('Elu', [x], out, [float('alpha', 1)]);
      case 'leakyrelu': return this.node('LeakyRelu', [x], out, [float('alpha', alpha ?? 0.2)]);
      case 'swish': return this.node('Mul', [x, this.node('Sigmoid', [x], `${out}.sigmoid`)], out);
      default: throw unsupported(layer, `has activation "${fn}", which has no ONNX export`);
    }
  }

  pool(mode: 'max' | 'avg', x: string, out: string, k: [number, number], s: [number, number], pads: readonly number[], countIncludePad: boolean): string {
    const attrs = [ints('kernel_shape', k), ints('strides', s), ints('pads', onnxPads(pads))];
    if (mode === 'avg') attrs.push(int('count_include_pad', countIncludePad ? 1 : 0));
    return this.node(mode === 'max' ? 'MaxPool' : 'AveragePool', [x], out, attrs);
  }
}

/** A layer's weights by role (`kernel`, `bias`, `gamma`, ...), read asynchronously (WebGPU has no sync reads). */
async function weightsOf(layer: tf.layers.Layer): Promise<Map<string, { data: Float32Array; shape: number[] }>> {
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const w of layer.weights) {
    const role = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
    const t = w.read();
    out.set(role, { data: (await t.data()) as Float32Array, shape: t.shape });
  }
  return out;
}

interface LayerContext {
  g: GraphWriter;
  layer: tf.layers.Layer;
  cfg: tf.serialization.ConfigDict;
  name: string;
  ins: Value[];
  /** The first input's value name. */
  x: string;
  /** tfjs shape of the first input and of the output. */
  inShape: readonly (number | null)[];
  outShape: readonly (number | null)[];
}
type LayerExport = (c: LayerContext) => string | Promise<string>;

/** A Conv node for a tfjs conv (plain, depthwise, grouped, fused); returns the name before any add/activation. */
async function convNode(c: LayerContext, depthwise: boolean, out: string): Promise<string> {
  const { g, layer, cfg, inShape } = c;
  if (cfg.dataFormat === 'channelsFirst') throw unsupported(layer, 'is channels-first');
  const w = await weightsOf(layer);
  const kernel = (w.get('kernel') ?? w.get('depthwise_kernel'))!;
  const k = pair(cfg.kernelSize), s = pair(cfg.strides ?? 1), d = pair(cfg.dilationRate ?? 1);
  const cin = inShape[3]!;
  let oihw: Float32Array, dims: number[], group: number;
  if (depthwise) {
    const [kh, kw, ch, m] = kernel.shape as [number, number, number, number];
    // [kh, kw, C, m] is [kh, kw, 1, C*m] in memory: output channel c*m + j, group c.
    oihw = hwioToOihw(kernel.data, [kh, kw, 1, ch * m]);
    dims = [ch * m, 1, kh, kw];
    group = cin;
  } else {
    oihw = hwioToOihw(kernel.data, kernel.shape);
    dims = [kernel.shape[3]!, kernel.shape[2]!, kernel.shape[0]!, kernel.shape[1]!];
    group = cin / kernel.shape[2]!;
  }
  const pads = explicitPads(cfg.padding, inShape, k, s, d);
  const sized = [inShape[1], inShape[2], c.outShape[1], c.outShape[2]].every((v) => typeof v === 'number');
  const taps = sized ? tapCoverage([inShape[1]!, inShape[2]!], [c.outShape[1]!, c.outShape[2]!], k, s, d, [pads[0], pads[2]]) : undefined;
  const inputs = [c.x, ...g.weightInputs(c.name, oihw, dims, 0, w.get('bias')?.data, c.ins[0]!, group, taps)];
  return g.node('Conv', inputs, out, [
    ints('kernel_shape', k), ints('strides', s), ints('dilations', d), int('group', group), ints('pads', onnxPads(pads)),
  ]);
}

/** Conv2D / DepthwiseConv2D / GroupedConv2D with their own activation. */
const conv = (depthwise: boolean): LayerExport => async (c) => {
  const act = String(c.cfg.activation ?? 'linear');
  const y = await convNode(c, depthwise, act === 'linear' ? c.name : `${c.name}.conv`);
  return c.g.activation(y, act, c.name, c.layer);
};

/** A tfjs Reshape/Flatten as ONNX ops: through NHWC order when the input or output is a feature map. */
function reshape(c: LayerContext, target: readonly number[]): string {
  const { g, name } = c;
  const inRank = c.inShape.length, outRank = target.length + 1;
  // An [N, 1, 1, C] map has the same memory order in NCHW and NHWC: no transposes needed.
  const spatialOne = (s: readonly (number | null)[]) => s.length !== 4 || (s[1] === 1 && s[2] === 1);
  const plain = spatialOne(c.inShape) && spatialOne(c.outShape);
  let x = c.x;
  if (inRank === 4 && !plain) x = g.node('Transpose', [x], `${name}.nhwc`, [ints('perm', TO_NHWC)]);
  if (outRank === 4 && !plain) {
    x = g.node('Reshape', [x, g.int64s(`${name}.shape`, [0, ...target])], `${name}.reshape`);
    return g.node('Transpose', [x], name, [ints('perm', TO_NCHW)]);
  }
  const shape = outRank === 4 ? [0, target[2]!, target[0]!, target[1]!] : [0, ...target];
  return g.node('Reshape', [x, g.int64s(`${name}.shape`, shape)], name);
}

/** Dense / FusedDense: Gemm on [N, in]. */
const dense: LayerExport = async (c) => {
  if (c.inShape.length !== 2) throw unsupported(c.layer, `takes a rank-${c.inShape.length} input; ONNX export supports Dense on [N, features]`);
  const w = await weightsOf(c.layer);
  const kernel = w.get('kernel')!;
  const inputs = [c.x, ...c.g.weightInputs(c.name, kernel.data, kernel.shape, 1, w.get('bias')?.data, c.ins[0]!)];
  const act = String(c.cfg.activation ?? 'linear');
  const y = c.g.node('Gemm', inputs, act === 'linear' ? c.name : `${c.name}.gemm`);
  return c.g.activation(y, act, c.name, c.layer, c.cfg.leakyreluAlpha as number | undefined);
};

/** Element-wise op over all inputs (broadcasting [N, C, 1, 1] against [N, C, H, W] like tfjs does NHWC). */
const elementwise = (op: 'Add' | 'Mul' | 'Max' | 'Sub'): LayerExport => (c) => {
  if (c.ins.some((v) => v.shape.length !== c.outShape.length)) throw unsupported(c.layer, 'mixes input ranks');
  if (op === 'Max' || c.ins.length === 2) return c.g.node(op, c.ins.map((v) => v.name), c.name);
  return c.ins.slice(1).reduce((acc, v, i) => c.g.node(op, [acc, v.name], i === c.ins.length - 2 ? c.name : `${c.name}.${i}`), c.ins[0]!.name);
};

/** Pool2D (PyTorch pooling): the same windows as the tfjs layer, ceil mode and count_include_pad included. */
const pool2d: LayerExport = (c) => {
  const { cfg, inShape } = c;
  const [kh, kw] = pair(cfg.poolSize), [sh, sw] = pair(cfg.strides);
  const [[pt, pb0], [pl, pr0]] = cfg.padding as [[number, number], [number, number]];
  const countIncludePad = cfg.countIncludePad !== false;
  const [h, w] = [inShape[1]!, inShape[2]!];
  const [oh, ow] = [c.outShape[1]!, c.outShape[2]!];
  // Padding such that exactly oh x ow windows fit (as the layer pads; extra cells only in ceil mode).
  const pb = Math.max((oh - 1) * sh + kh - h - pt, 0), pr = Math.max((ow - 1) * sw + kw - w - pl, 0);
  if (cfg.mode === 'max') return c.g.pool('max', c.x, c.name, [kh, kw], [sh, sw], [pt, pb, pl, pr], true);
  // Average: ONNX divides by kh*kw with count_include_pad; PyTorch's divisor per output cell corrects it.
  const extent = (o: number, k: number, s: number, p0: number, p1: number, n: number) => {
    let start = o * s - p0;
    let end = Math.min(start + k, n + p1);
    if (!countIncludePad) { start = Math.max(start, 0); end = Math.min(end, n); }
    return end - start;
  };
  const factor = new Float32Array(oh * ow);
  for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    factor[i * ow + j] = (kh * kw) / (extent(i, kh, sh, pt, pb0, h) * extent(j, kw, sw, pl, pr0, w));
  }
  if (factor.every((f) => f === 1)) return c.g.pool('avg', c.x, c.name, [kh, kw], [sh, sw], [pt, pb, pl, pr], true);
  const mean = c.g.pool('avg', c.x, `${c.name}.mean`, [kh, kw], [sh, sw], [pt, pb, pl, pr], true);
  return c.g.node('Mul', [mean, c.g.constant(`${c.name}.divisor`, factor, [1, 1, oh, ow])], c.name);
};

/** PyTorch AdaptiveAvgPool2d: identity, a global or plain average pool, or two averaging matmuls. */
const adaptiveAvgPool: LayerExport = (c) => {
  const [oh, ow] = pair(c.cfg.outputSize);
  const [h, w] = [c.inShape[1]!, c.inShape[2]!];
  if (h === oh && w === ow) return c.g.node('Identity', [c.x], c.name);
  if (oh === 1 && ow === 1) return c.g.node('GlobalAveragePool', [c.x], c.name);
  if (h % oh === 0 && w % ow === 0) return c.g.pool('avg', c.x, c.name, [h / oh, w / ow], [h / oh, w / ow], [0, 0, 0, 0], true);
  // [oh, h] x [N, C, h, w] -> [N, C, oh, w]; transposed, [ow, w] x [N, C, w, oh] -> [N, C, ow, oh]; transposed back. The
  // bins come first in both products: an activation times a constant reads as a dense layer to a checkpoint reader.
  const swap = [ints('perm', [0, 1, 3, 2])];
  const rows = c.g.node('MatMul', [c.g.constant(`${c.name}.rows`, adaptiveBins(h, oh), [oh, h]), c.x], `${c.name}.rows`);
  const t = c.g.node('Transpose', [rows], `${c.name}.rows.t`, swap);
  const cols = c.g.node('MatMul', [c.g.constant(`${c.name}.cols`, adaptiveBins(w, ow), [ow, w]), t], `${c.name}.cols`);
  return c.g.node('Transpose', [cols], c.name, swap);
};

/** Export of each supported layer class (tfjs built-ins and cnn-zoo's custom layers). */
const LAYERS: Readonly<Record<string, LayerExport>> = {
  Conv2D: conv(false),
  DepthwiseConv2D: conv(true),
  GroupedConv2D: conv(false),
  FusedConv2D: async (c) => {
    const residual = Boolean(c.cfg.residual), act = String(c.cfg.activation ?? 'linear');
    let y = await convNode(c, Boolean(c.cfg.depthwise), residual || act !== 'linear' ? `${c.name}.conv` : c.name);
    if (residual) y = c.g.node('Add', [y, c.ins[1]!.name], act === 'linear' ? c.name : `${c.name}.add`);
    return c.g.activation(y, act, c.name, c.layer, c.cfg.leakyreluAlpha as number | undefined);
  },
  Dense: dense,
  FusedDense: dense,
  BatchNormalization: async (c) => {
    const axis = Number(c.cfg.axis ?? -1);
    if (axis !== -1 && axis !== c.inShape.length - 1) throw unsupported(c.layer, `normalizes axis ${axis}; ONNX export supports the channel axis (-1)`);
    const w = await weightsOf(c.layer);
    const mean = w.get('moving_mean')!.data, ch = mean.length;
    const gamma = w.get('gamma')?.data ?? new Float32Array(ch).fill(1);
    const beta = w.get('beta')?.data ?? new Float32Array(ch);
    const { g, name } = c;
    return g.node('BatchNormalization', [c.x, g.constant(`${name}.weight`, gamma, [ch]), g.constant(`${name}.bias`, beta, [ch]),
      g.constant(`${name}.running_mean`, mean, [ch]), g.constant(`${name}.running_var`, w.get('moving_variance')!.data, [ch])],
    name, [float('epsilon', Number(c.cfg.epsilon ?? 1e-3))]);
  },
  ReLU: (c) => {
    const max = c.cfg.maxValue as number | null | undefined;
    if (max === null || max === undefined) return c.g.node('Relu', [c.x], c.name);
    return c.g.node('Clip', [c.x, c.g.scalar(`${c.name}.min`, 0), c.g.scalar(`${c.name}.max`, max)], c.name);
  },
  Activation: (c) => c.g.activation(c.x, String(c.cfg.activation), c.name, c.layer),
  LeakyReLU: (c) => c.g.node('LeakyRelu', [c.x], c.name, [float('alpha', Number(c.cfg.alpha ?? 0.3))]),
  ELU: (c) => c.g.node('Elu', [c.x], c.name, [float('alpha', Number(c.cfg.alpha ?? 1))]),
  Dropout: (c) => c.x,
  SpatialDropout2D: (c) => c.x,
  Rescaling: (c) => {
    const scale = Number(c.cfg.scale ?? 1), offset = Number(c.cfg.offset ?? 0);
    let y = scale === 1 ? c.x : c.g.node('Mul', [c.x, c.g.scalar(`${c.name}.scale`, scale)], offset === 0 ? c.name : `${c.name}.mul`);
    if (offset !== 0) y = c.g.node('Add', [y, c.g.scalar(`${c.name}.offset`, offset)], c.name);
    return y;
  },
  ZeroPadding2D: (c) => {
    const p = c.cfg.padding as [[number, number], [number, number]];
    return c.g.node('Pad', [c.x, c.g.int64s(`${c.name}.pads`, [0, 0, p[0][0], p[1][0], 0, 0, p[0][1], p[1][1]])], c.name);
  },
  Cropping2D: (c) => {
    const p = c.cfg.cropping as [[number, number], [number, number]];
    const [h, w] = [c.inShape[1]!, c.inShape[2]!];
    return c.g.node('Slice', [c.x, c.g.int64s(`${c.name}.starts`, [p[0][0], p[1][0]]), c.g.int64s(`${c.name}.ends`, [h - p[0][1], w - p[1][1]]),
      c.g.int64s(`${c.name}.axes`, [2, 3])], c.name);
  },
  MaxPooling2D: (c) => {
    const k = pair(c.cfg.poolSize), s = pair(c.cfg.strides ?? c.cfg.poolSize);
    return c.g.pool('max', c.x, c.name, k, s, explicitPads(c.cfg.padding, c.inShape, k, s, [1, 1]), false);
  },
  // TF 'same' average pooling counts only the cells inside the input.
  AveragePooling2D: (c) => {
    const k = pair(c.cfg.poolSize), s = pair(c.cfg.strides ?? c.cfg.poolSize);
    return c.g.pool('avg', c.x, c.name, k, s, explicitPads(c.cfg.padding, c.inShape, k, s, [1, 1]), false);
  },
  Pool2D: pool2d,
  AdaptiveAvgPool2D: adaptiveAvgPool,
  GlobalAveragePooling2D: (c) => c.g.node('Flatten', [c.g.node('GlobalAveragePool', [c.x], `${c.name}.pool`)], c.name, [int('axis', 1)]),
  GlobalMaxPooling2D: (c) => c.g.node('Flatten', [c.g.node('GlobalMaxPool', [c.x], `${c.name}.pool`)], c.name, [int('axis', 1)]),
  Flatten: (c) => reshape(c, [c.outShape[1]!]),
  Reshape: (c) => reshape(c, c.outShape.slice(1) as number[]),
  Add: elementwise('Add'),
  Multiply: elementwise('Mul'),
  Subtract: elementwise('Sub'),
  Maximum: elementwise('Max'),
  Concatenate: (c) => c.g.node('Concat', c.ins.map((v) => v.name), c.name, [int('axis', nchwAxis(Number(c.cfg.axis ?? -1), c.outShape.length))]),
  // PyTorch's view(n, g, c/g, h, w).transpose(1, 2) on NCHW, which is what the layer computes on NHWC.
  ChannelShuffle: (c) => {
    const groups = Number(c.cfg.groups);
    const [, h, w, ch] = c.inShape as number[];
    const split = c.g.node('Reshape', [c.x, c.g.int64s(`${c.name}.split`, [0, groups, ch! / groups, h!, w!])], `${c.name}.split`);
    const swapped = c.g.node('Transpose', [split], `${c.name}.swap`, [ints('perm', [0, 2, 1, 3, 4])]);
    return c.g.node('Reshape', [swapped, c.g.int64s(`${c.name}.merge`, [0, ch!, h!, w!])], c.name);
  },
  ChannelSlice: (c) => {
    const start = Number(c.cfg.start), size = Number(c.cfg.size);
    return c.g.node('Slice', [c.x, c.g.int64s(`${c.name}.starts`, [start]), c.g.int64s(`${c.name}.ends`, [start + size]),
      c.g.int64s(`${c.name}.axes`, [nchwAxis(-1, c.inShape.length)])], c.name);
  },
  LRN: lrn,
};

/**
 * Caffe's LRN (alpha divided by the window, which is ONNX's LRN too), written out in plain ops: onnxruntime's LRN
 * kernel takes a pow per element (19 of BVLC GoogLeNet's 37 ms on one thread, and it has no int8 form). The window
 * sum of squares across channels is an AveragePool over [C, H*W] seen as one single-channel image (pads count as
 * zeros, as the clipped window's missing terms are); the power is Sqrt(s) * Sqrt(Sqrt(s)) for Caffe's beta 0.75.
 */
function lrn(c: LayerContext): string {
  const { g, name } = c;
  const size = Number(c.cfg.size), alpha = Number(c.cfg.alpha), beta = Number(c.cfg.beta), k = Number(c.cfg.k);
  const ch = c.inShape[3]!;
  const before = Math.floor((size - 1) / 2), after = size - 1 - before;
  const sq = g.node('Mul', [c.x, c.x], `${name}.square`);
  const padded = g.node('Pad', [sq, g.int64s(`${name}.pads`, [0, before, 0, 0, 0, after, 0, 0])], `${name}.padded`);
  const terms = Array.from({ length: size }, (_, i) => g.node('Slice', [padded, g.int64s(`${name}.start${i}`, [i]), g.int64s(`${name}.end${i}`, [i + ch]),
    g.int64s(`${name}.axis${i}`, [1])], `${name}.term${i}`));
  const total = size === 1 ? terms[0]! : g.node('Sum', terms, `${name}.window_sum`);
  const scaled = g.node('Mul', [total, g.scalar(`${name}.alpha`, alpha / size)], `${name}.scaled`);
  const scale = g.node('Add', [scaled, g.scalar(`${name}.k`, k)], `${name}.scale`);
  let denominator: string;
  if (beta === 1) denominator = scale;
  else if (beta === 0.5) denominator = g.node('Sqrt', [scale], `${name}.pow`);
  else if (beta === 0.75) {
    const root = g.node('Sqrt', [scale], `${name}.sqrt`);
    denominator = g.node('Mul', [root, g.node('Sqrt', [root], `${name}.fourth_root`)], `${name}.pow`);
  } else denominator = g.node('Pow', [scale, g.scalar(`${name}.beta`, beta)], `${name}.pow`);
  return g.node('Div', [c.x, denominator], name);
}

/** Layer classes `exportOnnx` supports. */
export const ONNX_LAYER_CLASSES: readonly string[] = ['InputLayer', ...Object.keys(LAYERS)];

interface RawNode { inputTensors: tf.SymbolicTensor[]; outputTensors: tf.SymbolicTensor[] }

/** What the exported graph's inputs and outputs are (also written to `metadata_props` as `cnnZoo.io`). */
export interface OnnxIo {
  input: { name: string; layout: OnnxLayout; shape: (number | string)[] };
  outputs: { name: string; layer: string; layout?: OnnxLayout; shape: (number | string)[] }[];
}

/** The ONNX file of `model`, with its graph's inputs and outputs described. */
export async function exportOnnxWithIo(model: tf.LayersModel, options: OnnxExportOptions = {}): Promise<{ bytes: Uint8Array; io: OnnxIo }> {
  checkLayersModel('exportOnnx(model)', model, 'exportOnnx(zooModel.model)');
  checkOptionNames('exportOnnx', options, ONNX_EXPORT_OPTIONS);
  checkOptionKinds('exportOnnx', options, { fp16: 'boolean', name: 'string', inputName: 'string' });
  if (options.outputs !== undefined && options.outputs !== 'features' && !Array.isArray(options.outputs)) {
    throw new CnnZooError(`exportOnnx: outputs is 'features' (every feature stage and the embedding) or a list of layer names, got ${shown(options.outputs)}.`, 'BAD_OPTION');
  }
  const layout = options.layout ?? 'NHWC';
  if (layout !== 'NHWC' && layout !== 'NCHW') throw new CnnZooError(`exportOnnx: layout must be 'NHWC' or 'NCHW', got "${String(layout)}".`, 'BAD_OPTION');
  if (model.inputs.length !== 1) throw new CnnZooError(`exportOnnx: "${model.name}" has ${model.inputs.length} inputs; export supports image models with one input.`, 'BAD_OPTION');
  const inShape = model.inputs[0]!.shape;
  if (inShape.length !== 4 || inShape.slice(1).some((d) => d == null)) {
    throw new CnnZooError(`exportOnnx: input shape [${inShape}] is not [batch, height, width, channels] with fixed sizes; build the model with an inputSize.`, 'BAD_OPTION');
  }
  // Extra outputs as [layer, output name]: a layer's own `features/<layer>`, the embedding (asked for by that name) `embedding`.
  const stages = featureStages(model), embedding = embeddingLayer(model, () => stages);
  const asked = options.outputs === 'features' ? [...stages.map((s) => s.layer), ...(embedding ? ['embedding'] : [])] : [...(options.outputs ?? [])];
  const extras = asked.map((l): [string, string] => {
    if (l === 'embedding' && !model.layers.some((m) => m.name === l)) {
      if (!embedding) throw new CnnZooError(`exportOnnx: "${model.name}" has no embedding layer of its own (a dense classifier's input, or a global pool before the classifier); name the layer to output.`, 'BAD_OPTION');
      return [embedding, 'embedding'];
    }
    if (!model.layers.some((m) => m.name === l)) {
      throw new CnnZooError(`exportOnnx: no layer "${l}" in ${model.name} for an extra output; pass layer names of model.layers, 'embedding' (or outputs: 'features').`, 'BAD_OPTION');
    }
    return [l, `features/${l}`];
  });

  if (options.fp16 && options.int8) throw new CnnZooError('exportOnnx: choose fp16 or int8 weights, not both.', 'BAD_OPTION');
  if (options.int8 && (typeof options.int8.ranges !== 'object' || typeof options.int8.means !== 'object')) {
    throw new CnnZooError('exportOnnx: int8 takes what calibrate returns ({ ranges, means }): exportOnnx(model, { int8: await calibrateInt8(model, batches) }).', 'BAD_OPTION');
  }
  const g = new GraphWriter();
  g.fp16 = options.fp16 === true;
  const values = new Map<number, Value>();
  const [, h, w, ch] = inShape as number[];
  if (options.inputName !== undefined && !/^[A-Za-z_][\w.]*$/.test(options.inputName)) {
    throw new CnnZooError(`exportOnnx: inputName must be an identifier (letters, digits, _ and .), got ${JSON.stringify(options.inputName)}.`, 'BAD_OPTION');
  }
  const inputName = g.reserve(options.inputName ?? 'input');
  const mainNames = model.outputs.map((t, i) => g.reserve(i === 0 ? (hasClassifier(model) ? 'logits' : 'features') : `output_${i}`));
  const extraNames = extras.map(([, name]) => g.reserve(name));
  const inputDims: (number | string)[] = layout === 'NHWC' ? ['N', h!, w!, ch!] : ['N', ch!, h!, w!];
  const nchwInput = layout === 'NHWC' ? g.node('Transpose', [inputName], 'input.nchw', [ints('perm', TO_NCHW)]) : inputName;
  for (const layer of model.layers) {
    const nodes = (layer as unknown as { inboundNodes: RawNode[] }).inboundNodes;
    if (nodes.length !== 1) throw unsupported(layer, `is applied ${nodes.length} times; export supports layers used once`);
    const node = nodes[0]!;
    const out = node.outputTensors[0]!;
    const quantize = (v: Value): Value => {
      const range = options.int8?.ranges[layer.name];
      if (!range) return v;
      const q = activationQuant(range);
      return { name: g.fakeQuant(v.name, q, layer.name), shape: v.shape, q, mean: options.int8!.means[layer.name] };
    };
    if (layer.getClassName() === 'InputLayer') {
      values.set(out.id, quantize({ name: nchwInput, shape: out.shape }));
      continue;
    }
    const fn = LAYERS[layer.getClassName()];
    if (!fn) throw unsupported(layer, 'has no ONNX export');
    if (node.outputTensors.length !== 1) throw unsupported(layer, 'has several outputs');
    const ins = node.inputTensors.map((t) => {
      const v = values.get(t.id);
      if (!v) throw unsupported(layer, 'reads a tensor from outside the model graph');
      return v;
    });
    const name = await fn({ g, layer, cfg: layer.getConfig(), name: layer.name, ins, x: ins[0]!.name, inShape: ins[0]!.shape, outShape: out.shape });
    values.set(out.id, quantize({ name, shape: out.shape }));
  }

  const outputs: ValueInfoDef[] = [];
  const io: OnnxIo = { input: { name: inputName, layout, shape: inputDims }, outputs: [] };
  const emit = (t: tf.SymbolicTensor, outName: string, layer: string) => {
    const v = values.get(t.id)!;
    const s = t.shape;
    let dims: (number | string)[] = ['N', ...s.slice(1).map((d) => d!)];
    let name: string;
    if (s.length === 4 && layout === 'NHWC') name = g.node('Transpose', [v.name], outName, [ints('perm', TO_NHWC)], true);
    else {
      if (s.length === 4) dims = ['N', s[3]!, s[1]!, s[2]!];
      name = g.node('Identity', [v.name], outName, [], true);
    }
    outputs.push({ name, elemType: DataType.FLOAT, dims });
    io.outputs.push({ name, layer, ...(s.length === 4 ? { layout } : {}), shape: dims });
  };
  model.outputs.forEach((t, i) => emit(t, mainNames[i]!, t.sourceLayer.name));
  extras.forEach(([l], i) => emit(model.getLayer(l).output as tf.SymbolicTensor, extraNames[i]!, l));

  const cnnZoo = (model.getUserDefinedMetadata() as { cnnZoo?: unknown } | undefined)?.cnnZoo;
  const metadata: Record<string, string> = {
    ...(cnnZoo === undefined ? {} : { cnnZoo: JSON.stringify(cnnZoo) }),
    'cnnZoo.io': JSON.stringify(io),
    ...(options.fp16 ? { 'cnnZoo.fp16': 'conv/dense weights and biases float16, cast to float32 in the graph' } : {}),
    ...(options.int8 ? { 'cnnZoo.int8': `QDQ static int8: conv/dense weights int8 per output channel (symmetric), biases corrected for the weights' rounding (channel means of ${Object.keys(options.int8.means).length} activations) and int32, ${Object.keys(options.int8.ranges).length} activations uint8 per tensor (calibrated ranges)` } : {}),
    ...options.metadata,
  };
  const bytes = encodeModel({
    irVersion: 8, producerName: 'cnn-zoo', producerVersion: '1',
    docString: `${model.name}: input "${inputName}" ${layout} [${inputDims}] float32, preprocessed as metadata_props "cnnZoo" says; ` +
      `outputs ${io.outputs.map((o) => `"${o.name}"`).join(', ')}.`,
    opsets: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: options.name ?? model.name, nodes: g.nodes, initializers: g.initializers,
      inputs: [{ name: inputName, elemType: DataType.FLOAT, dims: inputDims }], outputs,
    },
    metadata,
  });
  return { bytes, io };
}

/**
 * The ONNX file (opset 13) of a cnn-zoo model, training or inference form: input `input` NHWC [N, H, W, 3] (or
 * NCHW with `layout: 'NCHW'`), dynamic batch, output `logits`, extra outputs `features/<layer>` (`embedding`) for
 * `options.outputs`, metadata (preprocessing, labels, source, licence) in `metadata_props`. An unsupported layer
 * fails with a CnnZooError naming its class.
 */
export async function exportOnnx(model: tf.LayersModel, options: OnnxExportOptions = {}): Promise<Uint8Array> {
  return (await exportOnnxWithIo(model, options)).bytes;
}
