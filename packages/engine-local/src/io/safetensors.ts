import { readFileSync, writeFileSync } from "node:fs";
import { EngineError } from "../engine-error.ts";

/**
 * safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape,
 * data_offsets}} and the raw little-endian data. Reads F32, F16, BF16 (and F64) into float32;
 * writes F32. Every malformed header is reported with the file and tensor name.
 */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

function decodeF16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export function parseSafetensors(buf: Uint8Array, where: string): Map<string, NamedTensor> {
  if (buf.byteLength < 8)
    throw new EngineError("model_invalid", `${where}: too short for a safetensors file`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > buf.byteLength - 8)
    throw new EngineError("model_invalid", `${where}: header length ${headerLen} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new EngineError("model_invalid", `${where}: header is not JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const out = new Map<string, NamedTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const t = info as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const bytes = BYTES[t.dtype ?? ""];
    if (!bytes)
      throw new EngineError("model_invalid", `${where}: tensor ${name} has unsupported dtype ${t.dtype}`);
    if (!Array.isArray(t.shape) || !Array.isArray(t.data_offsets)) {
      throw new EngineError("model_invalid", `${where}: tensor ${name} lacks shape or data_offsets`);
    }
    const n = t.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = t.data_offsets;
    if (end - begin !== n * bytes || dataStart + end > buf.byteLength) {
      throw new EngineError(
        "model_invalid",
        `${where}: tensor ${name} data_offsets do not match shape ${JSON.stringify(t.shape)}`,
      );
    }
    const data = new Float32Array(n);
    // copy the bytes out: Node's Buffer is often a view into a shared pool, unaligned for floats
    const raw = new Uint8Array(n * bytes);
    raw.set(buf.subarray(dataStart + begin, dataStart + end));
    if (t.dtype === "F32") {
      data.set(new Float32Array(raw.buffer));
    } else if (t.dtype === "F64") {
      data.set(new Float64Array(raw.buffer));
    } else {
      const u16 = new Uint16Array(raw.buffer);
      if (t.dtype === "BF16") {
        const u32 = new Uint32Array(data.buffer);
        for (let i = 0; i < n; i++) u32[i] = (u16[i] as number) << 16;
      } else {
        for (let i = 0; i < n; i++) data[i] = decodeF16(u16[i] as number);
      }
    }
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

export function readSafetensors(path: string): Map<string, NamedTensor> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new EngineError("model_invalid", `${path}: cannot read (${(e as Error).message})`);
  }
  return parseSafetensors(buf, path);
}

export function serializeSafetensors(
  tensors: Iterable<[string, { shape: number[]; data: ArrayLike<number> }]>,
  metadata: Record<string, string> = { format: "pt" },
): Uint8Array {
  const entries = [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of entries) {
    const bytes = t.data.length * 4;
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  // pad the header with spaces so the data starts 8-byte aligned, as the reference writer does
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(headerBytes);
    headerBytes = p;
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    const f = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    out.set(new Uint8Array(f.buffer, f.byteOffset, f.length * 4), pos);
    pos += f.length * 4;
  }
  return out;
}

export function writeSafetensors(
  path: string,
  tensors: Iterable<[string, { shape: number[]; data: ArrayLike<number> }]>,
  metadata?: Record<string, string>,
): void {
  writeFileSync(path, serializeSafetensors(tensors, metadata));
}
