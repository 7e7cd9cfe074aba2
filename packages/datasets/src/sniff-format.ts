import { extname } from "node:path";
import { DatasetError } from "./dataset-error.ts";

export type DatasetFormat = "jsonl" | "json" | "csv" | "tsv" | "parquet";
export const SNIFF_BYTES = 4096;

export const isParquet = (head: Buffer) => head.length >= 4 && head.toString("latin1", 0, 4) === "PAR1";

/**
 * Rejects encodings we do not read, with a message that says what to do. UTF-16 shows up
 * as a BOM or as NUL bytes in every other position of ASCII text (Excel "Unicode text").
 */
export function checkEncoding(head: Buffer, file: string): void {
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw new DatasetError(
      "bad_encoding",
      "file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8",
      {
        file,
      },
    );
  }
  if (head[0] === 0x00 && head[1] === 0x00 && head[2] === 0xfe && head[3] === 0xff) {
    throw new DatasetError("bad_encoding", "file is UTF-32; save it as UTF-8", { file });
  }
  const n = Math.min(head.length, SNIFF_BYTES);
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i++) if (head[i] === 0) i % 2 === 0 ? evenNul++ : oddNul++;
  if (n >= 4 && (evenNul > n / 4 || oddNul > n / 4)) {
    throw new DatasetError(
      "bad_encoding",
      "file looks like UTF-16 text (NUL bytes between characters); save it as UTF-8",
      {
        file,
      },
    );
  }
  if (evenNul + oddNul > 0) {
    throw new DatasetError("bad_encoding", "file contains NUL bytes: it is binary, not text", { file });
  }
}

export const hasUtf8Bom = (head: Buffer) => head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;

/** Text formats by content first (the first non-blank character), then by extension. */
export function sniffTextFormat(head: Buffer, fileName: string): DatasetFormat {
  const ext = extname(fileName.toLowerCase().replace(/\.gz$/, ""));
  let i = hasUtf8Bom(head) ? 3 : 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09))
    i++;
  if (ext === ".csv") return "csv";
  if (ext === ".tsv") return "tsv";
  if (i >= head.length && head.length < SNIFF_BYTES)
    throw new DatasetError("empty", "file is empty", { file: fileName });
  if (i >= head.length && (ext === ".jsonl" || ext === ".ndjson")) return "jsonl";
  if (head[i] === 0x5b /* [ */) return "json";
  if (head[i] === 0x7b /* { */) return "jsonl";
  throw new DatasetError(
    "unknown_format",
    "cannot tell the format: expected JSONL (one object per line), a JSON array, CSV/TSV (by extension) or Parquet",
    { file: fileName },
  );
}
