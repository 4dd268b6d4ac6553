/**
 * TFLite flatbuffers (schema v3, the subset a CNN needs): tensors with their buffers and quantization,
 * and the operator list. Constant tensors are dequantized (`scale * (q - zero_point)`, per tensor or per
 * channel along `quantized_dimension`) to float32 in TFLite layout (conv OHWI, depthwise 1HW(C*m), FC [out, in]).
 */
import { corrupt, decodeElements, numelOf, unsupported, DTYPE_SIZE, type DType } from './bytes.js';
import { FbTable } from './flatbuffer.js';

/** TFLite TensorType enum -> our element type (null: not a weight type). */
const TENSOR_TYPES: readonly (DType | null)[] = ['float32', 'float16', 'int32', 'uint8', 'int64', null, 'bool', 'int16', null, 'int8', 'float64'];
/** BuiltinOperator codes a CNN uses (others are reported by number). */
const OPS: Readonly<Record<number, string>> = {
  0: 'ADD', 1: 'AVERAGE_POOL_2D', 2: 'CONCATENATION', 3: 'CONV_2D', 4: 'DEPTHWISE_CONV_2D', 6: 'DEQUANTIZE', 9: 'FULLY_CONNECTED',
  14: 'LOGISTIC', 17: 'MAX_POOL_2D', 18: 'MUL', 19: 'RELU', 21: 'RELU6', 22: 'RESHAPE', 25: 'SOFTMAX', 34: 'PAD', 40: 'MEAN', 43: 'SQUEEZE', 114: 'QUANTIZE',
};

export interface TfliteQuant { scale: number[]; zeroPoint: number[]; dimension: number }

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: string;
  quant?: TfliteQuant;
  /** Dequantized float32 values of a constant tensor (undefined for activations). */
  data?: Float32Array;
}

export interface TfliteOp {
  op: string;
  inputs: number[];
  outputs: number[];
}

export interface TfliteModel {
  tensors: TfliteTensor[];
  ops: TfliteOp[];
  inputs: number[];
  outputs: number[];
  description: string;
}

/** `real = scale * (q - zero_point)`, per tensor or per channel along `dimension`. */
export function dequantize(q: Float32Array, shape: readonly number[], quant: TfliteQuant, source: string, what: string): Float32Array {
  const { scale, zeroPoint, dimension } = quant;
  const out = new Float32Array(q.length);
  if (scale.length === 1) {
    const s = scale[0]!, z = zeroPoint[0] ?? 0;
    for (let i = 0; i < q.length; i++) out[i] = s * (q[i]! - z);
    return out;
  }
  const channels = shape[dimension];
  if (channels !== scale.length) throw corrupt(source, `${what}: ${scale.length} scales for dimension ${dimension} of shape [${shape}]`);
  const inner = shape.slice(dimension + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < q.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = scale[c]! * (q[i]! - (zeroPoint.length === 1 ? zeroPoint[0]! : zeroPoint[c] ?? 0));
  }
  return out;
}

export const isTflite = (bytes: Uint8Array): boolean => bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3';

/** Parse a `.tflite` model: its first subgraph's tensors (constants dequantized) and operators. */
export function readTflite(bytes: Uint8Array, source = 'model.tflite'): TfliteModel {
  if (!isTflite(bytes)) throw corrupt(source, 'no "TFL3" identifier: not a TFLite flatbuffer');
  const model = FbTable.root(bytes, source, 'Model');
  const version = model.u32(0);
  if (version !== 3) throw unsupported(source, `TFLite schema version ${version}`, 'Only version 3 is supported.');
  const codes = model.tables(1, 'OperatorCode').map((c) => {
    const code = Math.max(c.i8(0), c.i32(3));
    return OPS[code] ?? (code === 32 ? `CUSTOM:${c.string(1)}` : `BUILTIN_${code}`);
  });
  const buffers = model.tables(4, 'Buffer');
  const subgraphs = model.tables(2, 'SubGraph');
  if (subgraphs.length === 0) throw corrupt(source, 'no subgraph');
  const g = subgraphs[0]!;
  const tensors: TfliteTensor[] = g.tables(0, 'Tensor').map((t, index) => {
    const name = t.string(3);
    const shape = t.i32s(0);
    const typeCode = t.u8(1);
    const dtype = TENSOR_TYPES[typeCode];
    const q = t.table(4, `quantization of ${name}`);
    const quant = q && q.has(2) ? { scale: q.f32s(2), zeroPoint: q.i64s(3), dimension: q.i32(6) } : undefined;
    const tensor: TfliteTensor = { index, name, shape, type: dtype ?? `type${typeCode}`, quant };
    const bufIndex = t.u32(2);
    if (bufIndex >= buffers.length) throw corrupt(source, `tensor "${name}" names buffer ${bufIndex} of ${buffers.length}`);
    const buf = buffers[bufIndex]!;
    let raw = buf.bytes(0);
    if (raw.length === 0 && buf.u64(1) > 1) {
      const off = buf.u64(1), size = buf.u64(2);
      if (off + size > bytes.length) throw corrupt(source, `buffer of tensor "${name}" (${off}+${size}) lies outside the file`);
      raw = bytes.subarray(off, off + size);
    }
    if (raw.length > 0) {
      if (!dtype) throw unsupported(source, `constant tensor "${name}" has TFLite type ${typeCode}`);
      const n = numelOf(shape, source, `tensor "${name}"`);
      const dequantized = quant && (dtype === 'uint8' || dtype === 'int8' || dtype === 'int32' || dtype === 'int16');
      model.budget.take(dequantized ? 2 * n : n, `tensor "${name}"`);
      const copy = raw.subarray(0, n * DTYPE_SIZE[dtype]).slice();
      let data = decodeElements(copy, dtype, n, source, `tensor "${name}"`);
      if (dequantized) data = dequantize(data, shape, quant, source, `tensor "${name}"`);
      tensor.data = data;
    }
    return tensor;
  });
  const ops: TfliteOp[] = g.tables(3, 'Operator').map((o, i) => {
    const code = o.u32(0);
    if (code >= codes.length) throw corrupt(source, `operator ${i} uses opcode ${code} of ${codes.length}`);
    const check = (xs: number[]) => { for (const x of xs) if (x >= tensors.length) throw corrupt(source, `operator ${i} names tensor ${x} of ${tensors.length}`); return xs; };
    return { op: codes[code]!, inputs: check(o.i32s(1)), outputs: check(o.i32s(2)) };
  });
  return { tensors, ops, inputs: g.i32s(1), outputs: g.i32s(2), description: model.string(3) };
}

/** Segments after a weight's layer scope: variable/quantization tails, then at most one op name. */
const VARIABLE_TAIL = /^(FakeQuantWithMinMaxVars|weights_quant|read|weights|depthwise_weights|kernel|biases)$/;
const OP_TAIL = /^(Conv2D_Fold|depthwise_Fold|Conv2D|depthwise|MatMul|BiasAdd)$/;

/** The layer scope of a weight tensor (`MobilenetV1/MobilenetV1/Conv2d_0/Conv2D_Fold;...` -> `MobilenetV1/Conv2d_0`). */
export function tfliteScope(name: string): string {
  const parts = name.split(';')[0]!.split('/');
  while (parts.length > 1 && VARIABLE_TAIL.test(parts[parts.length - 1]!)) parts.pop();
  if (parts.length > 1 && OP_TAIL.test(parts[parts.length - 1]!)) parts.pop();
  if (parts.length > 2 && parts[0] === parts[1]) parts.shift();
  return parts.join('/');
}

/**
 * The weights of every CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED op, in graph order, in PyTorch layout
 * (conv OHWI -> OIHW, depthwise 1HW(C*m) -> (C*m)1HW), keyed `<scope with '/' -> '.'>.weight|bias`. Biases
 * are those of the folded conv (BN folded in), which the converter loads into BN layers where the model has them.
 */
export function tfliteStateDict(model: TfliteModel, source: string): { stateDict: Map<string, { shape: number[]; data: Float32Array }>; inputSize?: number } {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  // float16 / dynamic-range models keep weights behind a DEQUANTIZE op: its constant input is the weight.
  const dequantized = new Map<number, TfliteTensor>();
  for (const op of model.ops) {
    const src = model.tensors[op.inputs[0]!];
    if (op.op === 'DEQUANTIZE' && src?.data) dequantized.set(op.outputs[0]!, src);
  }
  const constant = (i: number | undefined): TfliteTensor | undefined => {
    if (i === undefined || i < 0) return undefined;
    const t = model.tensors[i];
    const d = dequantized.get(i);
    return t && !t.data && d ? { ...t, data: d.data } : t;
  };
  for (const op of model.ops) {
    if (op.op !== 'CONV_2D' && op.op !== 'DEPTHWISE_CONV_2D' && op.op !== 'FULLY_CONNECTED') continue;
    const w = constant(op.inputs[1]);
    if (!w?.data) throw unsupported(source, `${op.op} weights of "${w?.name ?? '?'}" are not constant`);
    const bIndex = op.inputs[2];
    const b = constant(bIndex);
    let key = tfliteScope(w.name).replace(/\//g, '.');
    for (let i = 2; out.has(`${key}.weight`); i++) key = `${tfliteScope(w.name).replace(/\//g, '.')}_${i}`;
    const s = w.shape;
    const rank = op.op === 'FULLY_CONNECTED' ? 2 : 4;
    if (s.length !== rank) throw corrupt(source, `${op.op} weights "${w.name}" have shape [${s}], not rank ${rank}`);
    let weight: { shape: number[]; data: Float32Array };
    if (op.op === 'CONV_2D') weight = { shape: [s[0]!, s[3]!, s[1]!, s[2]!], data: transposeOhwi(w.data, s) };
    else if (op.op === 'DEPTHWISE_CONV_2D') weight = { shape: [s[3]!, 1, s[1]!, s[2]!], data: transposeOhwi(w.data, s, true) };
    else weight = { shape: [s[0]!, s[1]!], data: w.data };
    out.set(`${key}.weight`, weight);
    if (b?.data) out.set(`${key}.bias`, { shape: [b.data.length], data: b.data });
  }
  const inShape = model.tensors[model.inputs[0]!]?.shape;
  const inputSize = inShape && inShape.length === 4 && inShape[1] === inShape[2] ? inShape[1] : undefined;
  return { stateDict: out, inputSize };
}

/** OHWI -> OIHW; for depthwise (`depthwise`), 1HWC -> C1HW. */
function transposeOhwi(data: Float32Array, shape: readonly number[], depthwise = false): Float32Array {
  const [o, h, w, i] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  if (depthwise) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < i; c++) out[(c * h + y) * w + x] = data[(y * w + x) * i + c]!;
    return out;
  }
  for (let a = 0; a < o; a++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < i; c++) {
    out[((a * i + c) * h + y) * w + x] = data[((a * h + y) * w + x) * i + c]!;
  }
  return out;
}
