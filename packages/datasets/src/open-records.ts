import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type ByteStream,
  gunzipGuarded,
  isGzip,
  limitBytes,
  peekBytes,
  readFileChunks,
  toBuffers,
} from "./byte-stream.ts";
import { decodeUtf8 } from "./decode-utf8.ts";
import type { IngestLimits } from "./ingest-limits.ts";
import { readCsv } from "./read-csv.ts";
import { readJsonArray } from "./read-json-array.ts";
import { readJsonl } from "./read-jsonl.ts";
import { readParquet } from "./read-parquet.ts";
import type { RecordEvent } from "./record-event.ts";
import { sanitizeFileName } from "./sanitize-file-name.ts";
import {
  checkEncoding,
  type DatasetFormat,
  isParquet,
  SNIFF_BYTES,
  sniffTextFormat,
} from "./sniff-format.ts";

/** A file on disk, or a stream (an upload body, a download) with the name the user gave it. */
export type DatasetSource =
  | { path: string; fileName?: string }
  | { stream: AsyncIterable<Uint8Array>; fileName: string };

export interface OpenedRecords {
  fileName: string;
  format: DatasetFormat;
  compressed: boolean;
  records: AsyncIterable<RecordEvent>;
  /** bytes read from the source so far (compressed bytes for gzip) */
  bytesRead(): number;
}

/**
 * Sniffs a source (gzip by magic bytes, Parquet by `PAR1`, text by content and extension, after
 * encoding checks) and returns a stream of raw records. Call `records` to the end or break: temp
 * files (spooled Parquet) are removed when the iteration finishes either way.
 */
export async function openRecords(source: DatasetSource, limits: IngestLimits): Promise<OpenedRecords> {
  const fileName = sanitizeFileName("path" in source ? (source.fileName ?? source.path) : source.fileName);
  const counter = { bytes: 0 };
  const raw: ByteStream = "path" in source ? readFileChunks(source.path) : toBuffers(source.stream);
  const outer = await peekBytes(limitBytes(raw, limits.maxFileBytes, fileName, counter), SNIFF_BYTES);
  let { head, stream } = outer;
  const compressed = isGzip(head);
  try {
    if (compressed) {
      ({ head, stream } = await peekBytes(gunzipGuarded(stream, limits, fileName, counter), SNIFF_BYTES));
    }
  } catch (err) {
    await outer.close();
    throw err;
  }
  const base = { fileName, compressed, bytesRead: () => counter.bytes };

  if (isParquet(head)) {
    if ("path" in source && !compressed) {
      await outer.close(); // Parquet is read by offset, not through the stream
      return { ...base, format: "parquet", records: readParquet(source.path, fileName) };
    }
    return { ...base, format: "parquet", records: readSpooledParquet(stream, fileName) };
  }
  let format: DatasetFormat;
  try {
    checkEncoding(head, fileName);
    format = sniffTextFormat(head, fileName);
  } catch (err) {
    await outer.close();
    throw err;
  }
  let records: AsyncIterable<RecordEvent>;
  if (format === "jsonl") records = readJsonl(stream, limits.maxLineBytes);
  else if (format === "json")
    records = readJsonArray(decodeUtf8(stream, fileName), limits.maxLineBytes, fileName);
  else {
    records = readCsv(decodeUtf8(stream, fileName), {
      delimiter: format === "tsv" ? "\t" : ",",
      maxRecordChars: limits.maxLineBytes,
      maxColumns: limits.maxColumns,
      file: fileName,
    });
  }
  return { ...base, format, records };
}

async function* readSpooledParquet(stream: ByteStream, fileName: string): AsyncGenerator<RecordEvent> {
  const dir = await mkdtemp(join(tmpdir(), "distillery-parquet-"));
  try {
    const path = join(dir, "data.parquet");
    await pipeline(Readable.from(stream), createWriteStream(path));
    yield* readParquet(path, fileName);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
