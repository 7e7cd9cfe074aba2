import { Readable } from "node:stream";
import { type CsvError, parse } from "csv-parse";
import { DatasetError } from "./dataset-error.ts";
import type { RecordEvent } from "./record-event.ts";

/**
 * CSV/TSV through csv-parse (RFC 4180 quoting, multi-line fields). The header row names the
 * columns; records with the wrong number of fields are reported, not guessed at.
 */
export async function* readCsv(
  source: AsyncIterable<string>,
  options: { delimiter: "," | "\t"; maxRecordChars: number; maxColumns: number; file: string },
): AsyncGenerator<RecordEvent> {
  const skipped: RecordEvent[] = [];
  const parser = parse({
    delimiter: options.delimiter,
    columns: (header: string[]) => {
      const names = header.map((h) => h.trim());
      const seen = new Set<string>();
      const dup = names.find((n) => seen.size === seen.add(n).size);
      if (dup !== undefined)
        throw new DatasetError("bad_format", `duplicate column "${dup}" in the header`, {
          file: options.file,
          line: 1,
        });
      if (names.some((n) => n === ""))
        throw new DatasetError("bad_format", "empty column name in the header", {
          file: options.file,
          line: 1,
        });
      return names;
    },
    bom: true,
    info: true,
    skip_empty_lines: true,
    max_record_size: options.maxRecordChars,
    skip_records_with_error: true,
    on_skip: (err: CsvError | undefined) => {
      if (err)
        skipped.push({
          kind: "bad",
          line: Number(err.lines ?? 0),
          reason: err.message.replace(/^Invalid Record Length: /, ""),
        });
    },
  });
  const input = Readable.from(boundHeader(source, options));
  input.on("error", (err) => parser.destroy(err));
  input.pipe(parser);
  try {
    for await (const rec of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      while (skipped.length) yield skipped.shift() as RecordEvent;
      yield { kind: "row", row: rec.record, line: rec.info.lines };
    }
    while (skipped.length) yield skipped.shift() as RecordEvent;
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    const e = err as CsvError;
    if (typeof e.code === "string" && e.code.startsWith("CSV_")) {
      throw new DatasetError("bad_format", e.message, {
        file: options.file,
        ...(e.lines ? { line: Number(e.lines) } : {}),
      });
    }
    throw err;
  } finally {
    input.destroy();
  }
}

/**
 * Counts the header's fields as the text streams by (quotes honoured) and refuses a header
 * wider than `maxColumns` before csv-parse builds a record of it: a 100,000-column header costs
 * the parser ~1 s of one thread and every row an object of 100,000 keys.
 */
async function* boundHeader(
  source: AsyncIterable<string>,
  options: { delimiter: string; maxColumns: number; file: string },
): AsyncGenerator<string> {
  const delimiter = options.delimiter.charCodeAt(0);
  let inHeader = true;
  let quoted = false;
  let fields = 1;
  for await (const chunk of source) {
    if (inHeader) {
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk.charCodeAt(i);
        if (c === 34) quoted = !quoted;
        else if (quoted) continue;
        else if (c === delimiter) {
          if (++fields > options.maxColumns)
            throw new DatasetError(
              "too_many_columns",
              `the header has more than ${options.maxColumns.toLocaleString("en-US")} columns (the limit is ${options.maxColumns.toLocaleString("en-US")})`,
              { file: options.file, line: 1 },
            );
        } else if (c === 10) {
          inHeader = false;
          break;
        }
      }
    }
    yield chunk;
  }
}
