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
  options: { delimiter: "," | "\t"; maxRecordChars: number; file: string },
): AsyncGenerator<RecordEvent> {
  const skipped: RecordEvent[] = [];
  const parser = parse({
    delimiter: options.delimiter,
    columns: (header: string[]) => {
      const names = header.map((h) => h.trim());
      const dup = names.find((n, i) => names.indexOf(n) !== i);
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
  const input = Readable.from(source);
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
