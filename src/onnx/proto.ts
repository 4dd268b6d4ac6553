/**
 * A minimal protobuf writer for the ONNX messages the exporter emits (onnx.proto3, IR version 8). Messages are
 * lists of byte chunks: a large tensor's bytes are referenced, not copied, until `finish()` concatenates the model
 * once, so exporting VGG-19 (548 MB of weights) needs one extra copy of its weights, not three.
 *
 * Field numbers follow onnx/onnx.proto3 (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto, StringStringEntryProto).
 */

const WIRE_VARINT = 0, WIRE_BYTES = 2, WIRE_FIXED32 = 5;
const utf8 = new TextEncoder();

/** One protobuf message being written: its chunks and their total length. */
export class ProtoMessage {
  private readonly parts: Uint8Array[] = [];
  private pending: number[] = [];
  length = 0;

  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(Uint8Array.from(this.pending));
    this.pending = [];
  }

  private rawVarint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    do {
      const byte = Number(n & 0x7fn);
      n >>= 7n;
      this.pending.push(n > 0n ? byte | 0x80 : byte);
      this.length++;
    } while (n > 0n);
  }

  private key(field: number, wire: number): void {
    this.rawVarint((field << 3) | wire);
  }

  /** int32 / int64 / enum field (negative values as 10-byte two's complement, like protoc). */
  int(field: number, v: number | bigint): this {
    this.key(field, WIRE_VARINT);
    this.rawVarint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.pending.push(x);
    this.length += 4;
    return this;
  }

  /** A bytes field; large arrays are kept by reference. */
  bytes(field: number, b: Uint8Array): this {
    this.key(field, WIRE_BYTES);
    this.rawVarint(b.byteLength);
    if (b.byteLength < 64) {
      for (const x of b) this.pending.push(x);
    } else {
      this.flush();
      this.parts.push(b);
    }
    this.length += b.byteLength;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** Repeated int64 written one field per value (valid for both packed and unpacked readers). */
  ints(field: number, vs: readonly (number | bigint)[]): this {
    for (const v of vs) this.int(field, v);
    return this;
  }

  message(field: number, m: ProtoMessage): this {
    this.key(field, WIRE_BYTES);
    this.rawVarint(m.length);
    this.flush();
    this.parts.push(...m.chunks());
    this.length += m.length;
    return this;
  }

  chunks(): Uint8Array[] {
    this.flush();
    return this.parts;
  }

  /** The encoded message as one array. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.chunks()) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
}

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT8: 3, INT32: 6, INT64: 7, UINT8: 2, FLOAT16: 10 } as const;
/** AttributeProto.AttributeType values used here. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export type Attribute =
  | { name: string; type: typeof AttrType.FLOAT; f: number }
  | { name: string; type: typeof AttrType.INT; i: number }
  | { name: string; type: typeof AttrType.STRING; s: string }
  | { name: string; type: typeof AttrType.FLOATS; floats: number[] }
  | { name: string; type: typeof AttrType.INTS; ints: number[] };

export interface NodeDef { opType: string; inputs: string[]; outputs: string[]; name: string; attributes: Attribute[]; domain?: string }
export interface TensorDef { name: string; dims: number[]; dataType: number; raw: Uint8Array }
/** A graph input/output: float tensor with named (dynamic) or fixed dimensions. */
export interface ValueInfoDef { name: string; elemType: number; dims: (number | string)[] }

export interface ModelDef {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  opsets: { domain: string; version: number }[];
  graph: { name: string; nodes: NodeDef[]; initializers: TensorDef[]; inputs: ValueInfoDef[]; outputs: ValueInfoDef[] };
  metadata: Record<string, string>;
}

function attribute(a: Attribute): ProtoMessage {
  const m = new ProtoMessage().string(1, a.name);
  switch (a.type) {
    case AttrType.FLOAT: m.float(2, a.f); break;
    case AttrType.INT: m.int(3, a.i); break;
    case AttrType.STRING: m.string(4, a.s); break;
    case AttrType.FLOATS: for (const f of a.floats) m.float(7, f); break;
    case AttrType.INTS: m.ints(8, a.ints); break;
  }
  return m.int(20, a.type);
}

function node(n: NodeDef): ProtoMessage {
  const m = new ProtoMessage();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  m.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes) m.message(5, attribute(a));
  if (n.domain) m.string(7, n.domain);
  return m;
}

function tensor(t: TensorDef): ProtoMessage {
  return new ProtoMessage().ints(1, t.dims).int(2, t.dataType).string(8, t.name).bytes(9, t.raw);
}

function valueInfo(v: ValueInfoDef): ProtoMessage {
  const shape = new ProtoMessage();
  for (const d of v.dims) shape.message(1, typeof d === 'string' ? new ProtoMessage().string(2, d) : new ProtoMessage().int(1, d));
  const tensorType = new ProtoMessage().int(1, v.elemType).message(2, shape);
  return new ProtoMessage().string(1, v.name).message(2, new ProtoMessage().message(1, tensorType));
}

/** Serialize an ONNX ModelProto. */
export function encodeModel(def: ModelDef): Uint8Array {
  const graph = new ProtoMessage();
  for (const n of def.graph.nodes) graph.message(1, node(n));
  graph.string(2, def.graph.name);
  for (const t of def.graph.initializers) graph.message(5, tensor(t));
  for (const v of def.graph.inputs) graph.message(11, valueInfo(v));
  for (const v of def.graph.outputs) graph.message(12, valueInfo(v));
  const model = new ProtoMessage().int(1, def.irVersion).string(2, def.producerName).string(3, def.producerVersion);
  if (def.docString) model.string(6, def.docString);
  model.message(7, graph);
  for (const o of def.opsets) model.message(8, new ProtoMessage().string(1, o.domain).int(2, o.version));
  for (const [k, v] of Object.entries(def.metadata)) model.message(14, new ProtoMessage().string(1, k).string(2, v));
  return model.finish();
}
