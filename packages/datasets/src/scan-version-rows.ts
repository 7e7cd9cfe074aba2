import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { type CanonicalExample, getPromptText } from "@distillery/core";
import { DatasetError } from "./dataset-error.ts";
import type { RowBlock } from "./row-sink.ts";

/** How much row text (uncompressed) one search request reads before it answers with what it has. */
export const DEFAULT_MAX_SCAN_BYTES = 64 * 1024 * 1024;

export interface ScanVersionRowsOptions {
  /** the version's rows file (gzipped JSONL, as createFsRowSink writes it), opened afresh at a byte offset */
  open: (offset: number) => Promise<Readable>;
  /** the file's gzip members (RowSinkResult.blocks): reading starts at the member holding `from` */
  blocks?: readonly RowBlock[];
  /** the first row to look at: 0, or the previous page's `next` */
  from?: number;
  limit?: number;
  /** case-insensitive substring of the row's system prompt, messages, reasoning or answer */
  search?: string;
  /** a search stops after reading this many bytes of rows past `from`, even with the page short */
  maxScanBytes?: number;
}

export interface VersionRowsScan {
  /** matching rows, each with its 0-based index in the version */
  rows: { index: number; example: CanonicalExample }[];
  /** the first row not looked at (pass it as `from` to go on); null once the version's end was reached */
  next: number | null;
}

/** What a search matches: the same text for every caller. */
export function getSearchText(example: CanonicalExample): string {
  return `${getPromptText(example)}\n${example.reasoning ?? ""}\n${example.answer}`;
}

/**
 * Whether a needle can be looked for in a row's raw JSON line instead of its parsed text.
 * createFsRowSink writes rows with JSON.stringify, which escapes only quotes, backslashes,
 * control characters (newlines among them) and lone surrogates; a needle with none of those
 * appears in the lower-cased line wherever it appears in the lower-cased text. Sigma is left
 * out because its lower case depends on the letters around it.
 */
function isRawSearchable(needle: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes
  return !/["\\\u0000-\u001f\u03c2\u03c3\ud800-\udfff]/.test(needle);
}

/**
 * One page of the row browser, streamed from the version's gzipped JSONL and bounded:
 * - reading starts at the gzip member that holds row `from` (with `blocks`; else at the start),
 *   and the rows before `from` are skipped by counting newlines in the decompressed bytes,
 *   without decoding or parsing them;
 * - without a search it stops once `limit` rows are read;
 * - with a search it looks for the needle in each lower-cased raw line first and parses only
 *   the lines that contain it (then checks the parsed text, so a hit in a JSON key is no
 *   match); it stops at `limit` matches, or once `maxScanBytes` of rows were read, and `next`
 *   says where to go on ("searched N of M rows, load more").
 * Stopping early closes the stream, so a blob store only sends what was read.
 */
export async function scanVersionRows(options: ScanVersionRowsOptions): Promise<VersionRowsScan> {
  const from = Math.max(0, Math.floor(options.from ?? 0));
  const limit = Math.min(Math.max(1, options.limit ?? 50), 500);
  const needle = options.search?.trim().toLowerCase() || undefined;
  const isRaw = needle !== undefined && isRawSearchable(needle);
  const maxScanBytes = options.maxScanBytes ?? DEFAULT_MAX_SCAN_BYTES;
  const rows: VersionRowsScan["rows"] = [];
  let start: RowBlock = { row: 0, offset: 0 };
  for (const b of options.blocks ?? []) if (b.row <= from && b.row >= start.row) start = b;
  const source = await options.open(start.offset);
  const gunzip = createGunzip();
  // a read error reaches the loop below through gunzip; stopping early destroys both
  const piped = pipeline(source, gunzip).catch(() => {});

  const decoder = new StringDecoder("utf8");
  let index = start.row; // the row the next complete line is
  let isMidLine = false; // while skipping: the current chunk starts inside a line
  let rest = "";
  let scanned = 0;

  const parse = (line: string): CanonicalExample => {
    try {
      return JSON.parse(line) as CanonicalExample;
    } catch (e) {
      throw new DatasetError("bad_format", `corrupt version row: ${(e as Error).message}`, {
        line: index + 1,
      });
    }
  };
  /** One complete, non-empty line: true once the page is full. */
  const take = (line: string, isCandidate: boolean): boolean => {
    if (isCandidate) {
      const example = parse(line);
      if (!needle || getSearchText(example).toLowerCase().includes(needle)) rows.push({ index, example });
    }
    index++;
    return rows.length >= limit;
  };
  /** Every complete line of `text`; returns true once the page is full. */
  const takeLines = (text: string): boolean => {
    const low = isRaw ? text.toLowerCase() : undefined;
    let start = 0;
    let lowStart = 0;
    let hit = low && needle ? low.indexOf(needle) : -1;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      const lowNl = low ? low.indexOf("\n", lowStart) : nl;
      const isCandidate = !needle || !low || (hit !== -1 && hit < lowNl);
      if (low && needle && hit !== -1 && hit < lowNl) hit = low.indexOf(needle, lowNl + 1);
      if (nl > start && take(text.slice(start, nl), isCandidate)) return true;
      start = nl + 1;
      lowStart = lowNl + 1;
    }
    return false;
  };

  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      let buf = chunk;
      if (index < from) {
        // skip whole rows by their newlines: no decoding, no parsing
        let pos = 0;
        for (let nl = buf.indexOf(10); nl !== -1 && index < from; nl = buf.indexOf(10, pos)) {
          if (nl > pos || isMidLine) index++;
          isMidLine = false;
          pos = nl + 1;
        }
        if (index < from) {
          isMidLine = isMidLine || pos < buf.length;
          continue;
        }
        buf = buf.subarray(pos);
      }
      scanned += buf.length;
      const text = rest + decoder.write(buf);
      const end = text.lastIndexOf("\n");
      if (end === -1) {
        rest = text;
        continue;
      }
      rest = text.slice(end + 1);
      if (takeLines(text.slice(0, end + 1))) return { rows, next: index };
      if (needle && scanned >= maxScanBytes) return { rows, next: index };
    }
    const last = rest + decoder.end();
    if (last.trim() !== "" && index >= from)
      take(last, !needle || !isRaw || last.toLowerCase().includes(needle));
    return { rows, next: null };
  } finally {
    gunzip.destroy();
    source.destroy();
    await piped;
  }
}
