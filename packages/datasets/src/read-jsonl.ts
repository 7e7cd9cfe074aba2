import { isUtf8 } from "node:buffer";
import type { ByteStream } from "./byte-stream.ts";
import { parseJsonRecord } from "./parse-json-record.ts";
import type { RecordEvent } from "./record-event.ts";

const NL = 0x0a;

/**
 * Splits JSONL on raw bytes. Hand-written rather than `readline` because it must (1) cap a line's
 * length without buffering it — a 5 GB file without newlines must not be read into memory —
 * (2) validate UTF-8 per line so the error names the line, and (3) avoid decoding whole chunks
 * to strings and re-splitting them, which costs most of the time at 1 GB.
 */
export async function* readJsonl(source: ByteStream, maxLineBytes: number): AsyncGenerator<RecordEvent> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  let line = 0;

  function* finish(bytes: Buffer): Generator<RecordEvent> {
    line++;
    if (overlong) {
      overlong = false;
      yield { kind: "bad", line, reason: `line is longer than ${maxLineBytes} bytes` };
      return;
    }
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--; // CRLF
    let start = 0;
    if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3; // BOM
    const slice = bytes.subarray(start, end);
    if (isBlank(slice)) return;
    if (!isUtf8(slice)) {
      yield { kind: "bad", line, reason: "line is not valid UTF-8" };
      return;
    }
    yield parseJsonRecord(slice.toString("utf8"), line, "line");
  }

  for await (const chunk of source) {
    let start = 0;
    for (let nl = chunk.indexOf(NL); nl !== -1; nl = chunk.indexOf(NL, start)) {
      const piece = chunk.subarray(start, nl);
      if (pendingBytes + piece.length > maxLineBytes) overlong = true;
      if (pendingBytes > 0 && !overlong) {
        pending.push(piece);
        yield* finish(Buffer.concat(pending, pendingBytes + piece.length));
      } else {
        yield* finish(piece);
      }
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const tail = chunk.subarray(start);
      if (overlong || pendingBytes + tail.length > maxLineBytes) {
        overlong = true; // drop the bytes, remember the line was too long
        pending = [];
        pendingBytes = 0;
      } else {
        // copy: the source may reuse its chunk buffer
        pending.push(Buffer.from(tail));
        pendingBytes += tail.length;
      }
    }
  }
  if (pendingBytes > 0 || overlong) yield* finish(Buffer.concat(pending, pendingBytes));
}

function isBlank(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}
