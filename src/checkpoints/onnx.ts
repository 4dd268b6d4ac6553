/**
 * ONNX models (protobufjs with the onnx.proto subset in onnx-proto.ts): the weights of every Conv, Gemm,
 * MatMul and BatchNormalization node in graph order, including int8/uint8 models (QLinearConv,
 * QLinearMatMul + QLinearAdd, DequantizeLinear on constants), dequantized with `scale * (q - zero_point)`, and float16
 * weights cast to float.
 * PyTorch layout (ONNX convs are OIHW). Exports whose initializers keep module paths (`features.0.weight`)
 * are keyed by name; otherwise by node order.
 */
import protobuf from 'protobufjs';
import { DecodeBudget, corrupt, decodeElements, numelOf, unsupported, type DType } from './bytes.js';
import { transpose } from '../arrays.js';
import { ONNX_PROTO } from './onnx-proto.js';
import type { NamedArray, StateDict } from '../arrays.js';

interface Tensor { name: string; dims: number[]; dataType: number; rawData: Uint8Array; floatData: number[]; int32Data: number[]; int64Data: number[]; doubleData: number[]; dataLocation: number }
interface Attr { name: string; f: number; i: number; ints: number[]; floats: number[]; t?: Tensor }
interface Node { input: string[]; output: string[]; name: string; opType: string; attribute: Attr[] }
interface ValueInfo { name: string; type?: { tensorType?: { shape?: { dim: { dimValue?: number }[] } } } }
interface Graph { node: Node[]; initializer: Tensor[]; input: ValueInfo[] }
interface Model { irVersion: number; graph?: Graph }

/** ONNX TensorProto.DataType -> element type. */
const DATA_TYPES: Readonly<Record<number, DType>> = { 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32' };

let modelType: protobuf.Type | undefined;

export interface OnnxWeights {
  stateDict: StateDict;
  /** Whether keys are module paths ('names') or only ordered ('order'). */
  naming: 'names' | 'order';
  inputSize?: number;
}


/** Read an `.onnx` model's weights. */
export function readOnnx(bytes: Uint8Array, source = 'model.onnx'): OnnxWeights {
  modelType ??= protobuf.parse(ONNX_PROTO).root.lookupType('onnx.ModelProto');
  let model: Model;
  try {
    model = modelType.toObject(modelType.decode(bytes), { longs: Number, bytes: Uint8Array, arrays: true, defaults: true }) as Model;
  } catch (e) {
    throw corrupt(source, `not a valid ONNX protobuf (${(e as Error).message})`);
  }
  const graph = model.graph;
  if (!graph || graph.node.length === 0) throw corrupt(source, 'ONNX model without a graph');

  const consts = new Map<string, NamedArray>();
  // Nodes may name the same initializer any number of times: every array made draws on one budget.
  const budget = new DecodeBudget(source, bytes.length);
  const decodeTensor = (t: Tensor, what: string): NamedArray => {
    if (t.dataLocation === 1) throw unsupported(source, `tensor "${t.name}" is stored in an external file`, 'Convert a model with embedded weights.');
    const dtype = Object.hasOwn(DATA_TYPES, t.dataType) ? DATA_TYPES[t.dataType] : undefined;
    if (!dtype) throw unsupported(source, `tensor "${t.name}" has ONNX data type ${t.dataType}`);
    const shape = t.dims.map(Number);
    const n = numelOf(shape, source, what);
    budget.take(n, what);
    let data: Float32Array;
    if (t.rawData.length > 0) data = decodeElements(t.rawData, dtype, n, source, what);
    else {
      const typed = dtype === 'float32' ? t.floatData : dtype === 'int64' ? t.int64Data : dtype === 'float64' ? t.doubleData : t.int32Data;
      if (typed.length !== n) throw corrupt(source, `${what} holds ${typed.length} values, shape [${shape}] needs ${n}`);
      data = Float32Array.from(typed);
    }
    return { shape, data };
  };
  for (const t of graph.initializer) consts.set(t.name, decodeTensor(t, `initializer "${t.name}"`));

  const attr = (n: Node, name: string): Attr | undefined => n.attribute.find((a) => a.name === name);
  const dequant = (q: NamedArray, scale: NamedArray, zp: NamedArray | undefined, axis: number, what: string): NamedArray => {
    budget.take(q.data.length, what);
    const out = new Float32Array(q.data.length);
    if (scale.data.length === 1) {
      const s = scale.data[0]!, z = zp?.data[0] ?? 0;
      for (let i = 0; i < out.length; i++) out[i] = s * (q.data[i]! - z);
      return { shape: q.shape, data: out };
    }
    const ax = axis < 0 ? axis + q.shape.length : axis;
    const channels = q.shape[ax]!;
    if (channels !== scale.data.length) throw corrupt(source, `${what}: ${scale.data.length} scales for axis ${ax} of shape [${q.shape}]`);
    const inner = q.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < out.length; i++) {
      const c = Math.floor(i / inner) % channels;
      out[i] = scale.data[c]! * (q.data[i]! - (zp ? (zp.data.length === 1 ? zp.data[0]! : zp.data[c]!) : 0));
    }
    return { shape: q.shape, data: out };
  };
  // Constant folding of what produces weights: Constant nodes, DequantizeLinear of constants, and a Cast to float of a
  // constant (float16 weights, as `cnn-zoo export --fp16` and onnxconverter's float16 tools store them; read as float32).
  for (const n of graph.node) {
    if (n.opType === 'Constant' && attr(n, 'value')?.t) consts.set(n.output[0]!, decodeTensor(attr(n, 'value')!.t!, `constant "${n.output[0]}"`));
    if (n.opType === 'Cast' && attr(n, 'to')?.i === 1 && consts.has(n.input[0]!)) consts.set(n.output[0]!, consts.get(n.input[0]!)!);
    if (n.opType === 'DequantizeLinear' && consts.has(n.input[0]!) && consts.has(n.input[1]!)) {
      consts.set(n.output[0]!, dequant(consts.get(n.input[0]!)!, consts.get(n.input[1]!)!, consts.get(n.input[2] ?? ''), attr(n, 'axis')?.i ?? 1, `DequantizeLinear "${n.name}"`));
    }
  }
  const need = (name: string | undefined, node: Node, what: string): NamedArray => {
    const c = name ? consts.get(name) : undefined;
    if (!c) throw unsupported(source, `the ${what} of ${node.opType} node "${node.name}" is not a constant`, 'cnn-zoo reads weights from initializers.');
    return c;
  };
  const opt = (name: string | undefined): NamedArray | undefined => (name ? consts.get(name) : undefined);

  const layers: { name: string | null; arrays: [string, NamedArray][] }[] = [];
  const byOutput = new Map<string, Node[]>();
  for (const n of graph.node) {
    for (const i of n.input) {
      const users = byOutput.get(i);
      if (users) users.push(n); else byOutput.set(i, [n]);
    }
  }
  const producer = new Map<string, Node>();
  for (const n of graph.node) for (const o of n.output) producer.set(o, n);
  /**
   * Whether activation `x` is a feature map flattened from NHWC (a Reshape/Flatten of a Transpose to NHWC, through
   * quantization and element-wise ops): cnn-zoo's export flattens so, where PyTorch's flattens NCHW.
   */
  const flattenedNhwc = (x: string | undefined): boolean => {
    let n = x === undefined ? undefined : producer.get(x);
    for (let guard = 0; n && guard < 16; guard++) {
      if (n.opType === 'Reshape' || n.opType === 'Flatten') {
        const t = producer.get(n.input[0]!);
        return t?.opType === 'Transpose' && (attr(t, 'perm')?.ints ?? []).map(Number).join() === '0,2,3,1';
      }
      if (!['QuantizeLinear', 'DequantizeLinear', 'Identity', 'Dropout', 'Relu', 'Clip', 'Cast'].includes(n.opType)) return false;
      n = producer.get(n.input[0]!);
    }
    return false;
  };
  /** `w` marked as reading an NHWC-flattened feature map when `x` is one. */
  const reading = (w: NamedArray, x: string | undefined): NamedArray => (flattenedNhwc(x) ? { ...w, flattenedHWC: true } : w);
  /** A weight in [out, in] layout from a [in, out] one (Gemm without transB, MatMul). */
  const transposed = (w: NamedArray, what: string): NamedArray => {
    budget.take(w.data.length, what);
    return { shape: [w.shape[1]!, w.shape[0]!], data: transpose(w.data, w.shape, [1, 0]) };
  };
  /** The constant bias added right after a MatMul (Add / QLinearAdd), if any. */
  const addedBias = (out: string): NamedArray | undefined => {
    const users = byOutput.get(out) ?? [];
    if (users.length !== 1) return undefined;
    const u = users[0]!;
    if (u.opType === 'Add') return opt(u.input.find((i) => i !== out));
    if (u.opType === 'QLinearAdd') {
      const [a, , , b, bs, bz] = u.input;
      const [q, s, z] = a === out ? [b, bs, bz] : [a, u.input[1], u.input[2]];
      const qa = opt(q), sa = opt(s);
      return qa && sa ? dequant(qa, sa, opt(z), 0, `bias of "${u.name}"`) : undefined;
    }
    return undefined;
  };
  const moduleName = (w: string | undefined): string | null => (w && /^[A-Za-z_][\w.]*\.weight(_quantized)?$/.test(w) ? w.replace(/\.weight(_quantized)?$/, '') : null);

  for (const n of graph.node) {
    switch (n.opType) {
      case 'Conv': {
        const w = need(n.input[1], n, 'weight');
        const b = opt(n.input[2]);
        layers.push({ name: moduleName(n.input[1]), arrays: [['weight', w], ...(b ? [['bias', b] as [string, NamedArray]] : [])] });
        break;
      }
      case 'QLinearConv': {
        const [, xs, , wq, ws, wz, , , bq] = n.input;
        const w = dequant(need(wq, n, 'weight'), need(ws, n, 'weight scale'), opt(wz), 0, `weight of "${n.name}"`);
        const arrays: [string, NamedArray][] = [['weight', w]];
        if (bq) {
          const xScale = need(xs, n, 'input scale').data[0]!;
          const wScale = need(ws, n, 'weight scale');
          const bias = need(bq, n, 'bias');
          budget.take(wScale.data.length, `bias scale of "${n.name}"`);
          const scale = { shape: wScale.shape, data: wScale.data.map((s) => s * xScale) };
          arrays.push(['bias', dequant(bias, scale, undefined, 0, `bias of "${n.name}"`)]);
        }
        layers.push({ name: moduleName(wq), arrays });
        break;
      }
      case 'Gemm': {
        const w = need(n.input[1], n, 'weight');
        if ((attr(n, 'alpha')?.f ?? 1) !== 1 && attr(n, 'alpha')?.f !== 0) throw unsupported(source, `Gemm "${n.name}" with alpha != 1`);
        if (attr(n, 'transA')?.i) throw unsupported(source, `Gemm "${n.name}" with transA`);
        if (w.shape.length !== 2) throw unsupported(source, `Gemm "${n.name}" with a rank-${w.shape.length} weight`);
        const weight = reading(attr(n, 'transB')?.i ? w : transposed(w, `weight of "${n.name}"`), n.input[0]);
        const b = opt(n.input[2]);
        layers.push({ name: moduleName(n.input[1]), arrays: [['weight', weight], ...(b ? [['bias', b] as [string, NamedArray]] : [])] });
        break;
      }
      case 'MatMul':
      case 'QLinearMatMul': {
        const w = n.opType === 'MatMul' ? opt(n.input[1]) : (() => {
          const q = opt(n.input[3]), s = opt(n.input[4]);
          return q && s ? dequant(q, s, opt(n.input[5]), 1, `weight of "${n.name}"`) : undefined;
        })();
        if (!w) break; // activation x activation
        if (w.shape.length !== 2) throw unsupported(source, `MatMul "${n.name}" with a rank-${w.shape.length} weight`);
        const weight = reading(transposed(w, `weight of "${n.name}"`), n.input[0]);
        const b = addedBias(n.output[0]!);
        layers.push({ name: moduleName(n.opType === 'MatMul' ? n.input[1] : n.input[3]), arrays: [['weight', weight], ...(b ? [['bias', b] as [string, NamedArray]] : [])] });
        break;
      }
      case 'BatchNormalization': {
        const [, s, b, m, v] = n.input;
        layers.push({ name: s && /\.weight$/.test(s) ? s.replace(/\.weight$/, '') : null, arrays: [['weight', need(s, n, 'scale')], ['bias', need(b, n, 'bias')], ['running_mean', need(m, n, 'mean')], ['running_var', need(v, n, 'variance')]] });
        break;
      }
      default:
        if (/Conv|MatMul|Gemm/.test(n.opType)) throw unsupported(source, `ONNX operator ${n.opType} ("${n.name}")`);
    }
  }
  if (layers.length === 0) throw unsupported(source, 'no Conv, Gemm or MatMul node with constant weights');
  const naming = layers.every((l) => l.name !== null) ? 'names' : 'order';
  const stateDict: StateDict = new Map();
  layers.forEach((l, i) => { for (const [suffix, a] of l.arrays) stateDict.set(`${naming === 'names' ? l.name : `node${i}`}.${suffix}`, a); });
  const dims = graph.input.find((i) => !consts.has(i.name))?.type?.tensorType?.shape?.dim.map((d) => Number(d.dimValue ?? 0));
  const inputSize = dims && dims.length === 4 && dims[2] === dims[3] && dims[2]! > 0 ? dims[2] : undefined;
  return { stateDict, naming, inputSize };
}
