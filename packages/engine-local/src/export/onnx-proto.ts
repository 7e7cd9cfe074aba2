/**
 * Just enough protobuf to write an ONNX ModelProto (onnx.proto, proto2 field numbers). Writing
 * the dozen messages we need by hand is smaller than carrying a protobuf runtime and a compiled
 * onnx.proto; onnxruntime-node is the judge that the bytes are right (see the parity test).
 */
class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private varint(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.chunks.push(Uint8Array.from(out));
  }
  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }
  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(BigInt(value));
    return this;
  }
  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.chunks.push(b);
    return this;
  }
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(BigInt(data.length));
    this.chunks.push(data);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, w: ProtoWriter): this {
    return this.bytes(field, w.finish());
  }
  finish(): Uint8Array {
    const n = this.chunks.reduce((s, c) => s + c.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

export type AttrValue = { i: number } | { f: number } | { ints: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: typeof ONNX_FLOAT | typeof ONNX_INT64;
  raw: Uint8Array;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** numbers are fixed sizes, strings symbolic (dynamic) dimensions */
  shape: (number | string)[];
}

function encodeAttr(name: string, v: AttrValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ("i" in v) return w.int(3, v.i).int(20, 2);
  if ("f" in v) return w.float(2, v.f).int(20, 1);
  for (const x of v.ints) w.int(8, x);
  return w.int(20, 7);
}

function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape)
    shape.message(1, typeof d === "number" ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, v.elemType).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

export interface OnnxGraphSpec {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  opset: number;
  /** ModelProto.metadata_props */
  metadata?: Record<string, string>;
}

/** Single-file ModelProto (protobuf caps it at 2 GiB). */
export function encodeModel(graph: OnnxGraphSpec): Uint8Array {
  return encodeModelParts(graph).model;
}

const entry = (key: string, value: string) => new ProtoWriter().string(1, key).string(2, value);

/**
 * ModelProto, with initializers larger than 1 KiB moved to an external data file when
 * `externalData` names one (ONNX's external data: location / offset / length, 64-byte aligned,
 * the form optimum writes as model.onnx_data). `data` is that file's content, in chunks.
 */
export function encodeModelParts(
  graph: OnnxGraphSpec,
  externalData?: string,
): { model: Uint8Array; data: Uint8Array[] } {
  const g = new ProtoWriter();
  graph.nodes.forEach((n, i) => {
    const w = new ProtoWriter();
    for (const x of n.inputs) w.string(1, x);
    for (const x of n.outputs) w.string(2, x);
    w.string(3, `${n.op}_${i}`).string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, encodeAttr(k, v));
    g.message(1, w);
  });
  g.string(2, graph.name);
  const data: Uint8Array[] = [];
  let offset = 0;
  for (const t of graph.initializers) {
    const w = new ProtoWriter();
    for (const d of t.dims) w.int(1, d);
    w.int(2, t.dataType).string(8, t.name);
    if (externalData && t.raw.length > 1024) {
      const pad = (64 - (offset % 64)) % 64;
      if (pad) data.push(new Uint8Array(pad));
      offset += pad;
      w.message(13, entry("location", externalData))
        .message(13, entry("offset", String(offset)))
        .message(13, entry("length", String(t.raw.length)))
        .int(14, 1); // data_location EXTERNAL
      data.push(t.raw);
      offset += t.raw.length;
    } else w.bytes(9, t.raw);
    g.message(5, w);
  }
  for (const v of graph.inputs) g.message(11, encodeValueInfo(v));
  for (const v of graph.outputs) g.message(12, encodeValueInfo(v));
  const m = new ProtoWriter()
    .int(1, 8) // ir_version 8 (onnx 1.10+), understood by every current runtime
    .string(2, "distillery-engine-local")
    .string(3, "0.1.0")
    .message(7, g)
    .message(8, new ProtoWriter().string(1, "").int(2, graph.opset));
  for (const [k, v] of Object.entries(graph.metadata ?? {})) m.message(14, entry(k, v));
  return { model: m.finish(), data };
}
