/**
 * Caffe weights: a standard `.caffemodel` (NetParameter protobuf; blobs in OIHW) or the per-blob layout of
 * caffejs exports (`<layer>_filter.bin` / `<layer>_bias.bin`, raw little-endian float32, filters laid out
 * (out, kh, kw, in), shapes from `deploy.prototxt`). Keys are the Caffe layer names with '/' -> '.', in
 * prototxt order, PyTorch layout.
 */
import protobuf from 'protobufjs';
import { corrupt, decodeElements, numelOf, unsupported } from './bytes.js';
import { CAFFE_PROTO } from './caffe-proto.js';
import { transpose } from '../arrays.js';
import { num, parsePrototxt, str, sub, type TextMessage } from './prototxt.js';
import type { NamedArray, StateDict } from '../arrays.js';

export interface CaffeNet {
  /** Layers with weights, in prototxt order: name, type, kernel (kh, kw) and outputs. */
  layers: { name: string; type: string; kernel?: [number, number] }[];
  /** Input height = width, when the prototxt states it. */
  inputSize?: number;
}

/** The weighted layers and input size of a `deploy.prototxt`. */
export function readPrototxt(text: string, source = 'deploy.prototxt'): CaffeNet {
  const net = parsePrototxt(text, source);
  const layers: CaffeNet['layers'] = [];
  let inputSize: number | undefined;
  const dims = (m: TextMessage | undefined) => (m?.['dim'] ?? []).filter((v): v is number => typeof v === 'number');
  const top = net['input_dim']?.filter((v): v is number => typeof v === 'number') ?? dims(sub(net, 'input_shape'));
  if (top.length === 4 && top[2] === top[3]) inputSize = top[2];
  for (const l of (net['layer'] ?? net['layers'] ?? []) as TextMessage[]) {
    const name = str(l, 'name') ?? '', type = str(l, 'type') ?? '';
    if (type === 'Input') {
      const d = dims(sub(sub(l, 'input_param'), 'shape'));
      if (d.length === 4 && d[2] === d[3]) inputSize = d[2];
    }
    const conv = sub(l, 'convolution_param');
    if (conv) {
      const k = num(conv, 'kernel_size');
      const kh = num(conv, 'kernel_h') ?? k, kw = num(conv, 'kernel_w') ?? k;
      if (kh === undefined || kw === undefined) throw corrupt(source, `convolution "${name}" has no kernel_size`);
      layers.push({ name, type, kernel: [kh, kw] });
    } else if (sub(l, 'inner_product_param') || /^(InnerProduct|INNER_PRODUCT|BatchNorm|Scale)$/.test(type)) {
      layers.push({ name, type });
    }
  }
  return { layers, inputSize };
}

const keyOf = (layer: string) => layer.replace(/\//g, '.');

/**
 * The caffejs per-blob arrays: `files(name)` returns the bytes of `<name>` relative to the weights folder
 * (or undefined when absent).
 */
export async function readCaffeBlobs(net: CaffeNet, files: (path: string) => Promise<Uint8Array | undefined>, source: string): Promise<StateDict> {
  const out: StateDict = new Map();
  for (const layer of net.layers) {
    const filter = await files(`${layer.name}_filter.bin`);
    const bias = await files(`${layer.name}_bias.bin`);
    if (!filter && !bias) continue;
    if (!filter || !bias) throw corrupt(source, `layer "${layer.name}" has ${filter ? 'a filter but no bias' : 'a bias but no filter'} file`);
    if (filter.length % 4 || bias.length % 4) throw corrupt(source, `blob files of "${layer.name}" are not whole float32 arrays`);
    const b = decodeElements(bias, 'float32', bias.length / 4, source, `${layer.name}_bias.bin`);
    const f = decodeElements(filter, 'float32', filter.length / 4, source, `${layer.name}_filter.bin`);
    const o = b.length;
    const [kh, kw] = layer.kernel ?? [1, 1];
    const cin = f.length / (o * kh * kw);
    if (!Number.isInteger(cin) || cin < 1) throw corrupt(source, `${layer.name}_filter.bin holds ${f.length} values, not a multiple of ${o} outputs x ${kh}x${kw}`);
    const weight: NamedArray = layer.kernel
      ? { shape: [o, cin, kh, kw], data: transpose(f, [o, kh, kw, cin], [0, 3, 1, 2]) }
      : { shape: [o, cin], data: f };
    out.set(`${keyOf(layer.name)}.weight`, weight);
    out.set(`${keyOf(layer.name)}.bias`, { shape: [o], data: b });
  }
  if (out.size === 0) throw corrupt(source, 'no <layer>_filter.bin / <layer>_bias.bin files for the prototxt\'s layers');
  return out;
}

let netType: protobuf.Type | undefined;
const caffeTypes = () => {
  netType ??= protobuf.parse(CAFFE_PROTO).root.lookupType('caffe.NetParameter');
  return netType;
};

interface Blob { shape?: { dim: number[] }; data: number[]; doubleData: number[]; num: number; channels: number; height: number; width: number }
interface Layer { name: string; type?: string | number; blobs: Blob[] }

/** Read a binary `.caffemodel`. */
export function readCaffemodel(bytes: Uint8Array, source = 'model.caffemodel'): StateDict {
  const T = caffeTypes();
  let net: { layer: Layer[]; layers: Layer[] };
  try {
    net = T.toObject(T.decode(bytes), { longs: Number, arrays: true, defaults: true }) as typeof net;
  } catch (e) {
    throw corrupt(source, `not a valid caffemodel protobuf (${(e as Error).message})`);
  }
  const out: StateDict = new Map();
  for (const l of [...net.layer, ...net.layers]) {
    if (l.blobs.length === 0) continue;
    const blobs = l.blobs.map((b, i) => {
      const shape = b.shape?.dim.length ? b.shape.dim.map(Number) : [b.num, b.channels, b.height, b.width].filter((_, j, a) => a.slice(0, j + 1).some((d) => d > 1) || j === 3);
      const values = b.data.length ? b.data : b.doubleData;
      const n = numelOf(shape, source, `blob ${i} of layer "${l.name}"`);
      if (values.length !== n) throw corrupt(source, `blob ${i} of layer "${l.name}" holds ${values.length} values, shape [${shape}] needs ${n}`);
      return { shape, data: Float32Array.from(values) };
    });
    const key = keyOf(l.name);
    const type = String(l.type ?? '');
    if (type === 'BatchNorm') {
      if (blobs.length < 2) throw corrupt(source, `BatchNorm layer "${l.name}" has ${blobs.length} blob(s), not mean, variance and scale`);
      const s = blobs[2]?.data[0] ?? 1;
      const f = s === 0 ? 0 : 1 / s;
      out.set(`${key}.running_mean`, { shape: [blobs[0]!.data.length], data: blobs[0]!.data.map((v) => v * f) });
      out.set(`${key}.running_var`, { shape: [blobs[1]!.data.length], data: blobs[1]!.data.map((v) => v * f) });
      continue;
    }
    if (blobs.length > 2) throw unsupported(source, `layer "${l.name}" (${type}) has ${blobs.length} blobs`);
    let w = blobs[0]!;
    // Old InnerProduct blobs are (1, 1, out, in).
    if (w.shape.length === 4 && w.shape[0] === 1 && w.shape[1] === 1 && blobs[1] && w.shape[2] === blobs[1].data.length) w = { shape: [w.shape[2]!, w.shape[3]!], data: w.data };
    out.set(`${key}.weight`, { shape: w.shape.length === 1 ? [w.data.length] : w.shape, data: w.data });
    if (blobs[1]) out.set(`${key}.bias`, { shape: [blobs[1].data.length], data: blobs[1].data });
  }
  if (out.size === 0) throw corrupt(source, 'no layer with weights');
  return out;
}

/** Encode a StateDict (Caffe layer names with '.', PyTorch layout = Caffe layout) as a `.caffemodel`. */
export function writeCaffemodel(sd: StateDict, name = 'net'): Uint8Array {
  const layers = new Map<string, { name: string; blobs: Blob[] }>();
  for (const [key, a] of sd) {
    const i = key.lastIndexOf('.');
    const layer = key.slice(0, i);
    const l = layers.get(layer) ?? { name: layer.replace(/\./g, '/'), blobs: [] };
    l.blobs.push({ shape: { dim: [...a.shape] }, data: Array.from(a.data), doubleData: [], num: 0, channels: 0, height: 0, width: 0 });
    layers.set(layer, l);
  }
  const T = caffeTypes();
  return T.encode(T.fromObject({ name, layer: [...layers.values()] })).finish();
}
