import { open } from "node:fs/promises";
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects, parquetSchema } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { DatasetError } from "./dataset-error.ts";
import type { RecordEvent } from "./record-event.ts";

/** Rows decoded per read: bounds memory on huge row groups while keeping hyparquet's per-call cost low. */
const ROWS_PER_READ = 2048;

/**
 * Parquet via hyparquet (snappy built in; gzip, zstd, brotli, lz4 from hyparquet-compressors).
 * Parquet needs random access (the footer is at the end), so it reads from a file; uploads and
 * gzip-wrapped Parquet are spooled to a temp file first. "line" is the 1-based row number.
 */
export async function* readParquet(path: string, file: string): AsyncGenerator<RecordEvent> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const buffer: AsyncBuffer = {
      byteLength: size,
      async slice(start: number, end?: number) {
        const stop = Math.min(end ?? size, size);
        const out = new Uint8Array(Math.max(0, stop - start));
        if (out.length > 0) await handle.read(out, 0, out.length, start);
        return out.buffer;
      },
    };
    let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (err) {
      throw new DatasetError("bad_format", `not a readable Parquet file: ${(err as Error).message}`, {
        file,
      });
    }
    const total = Number(metadata.num_rows);
    if (!Number.isSafeInteger(total) || total < 0)
      throw new DatasetError("bad_format", "Parquet footer has a bad row count", { file });
    let columns: string[];
    try {
      columns = parquetSchema(metadata).children.map((c) => c.element.name);
    } catch (err) {
      throw new DatasetError("bad_format", `Parquet schema is unreadable: ${(err as Error).message}`, {
        file,
      });
    }
    for (let rowStart = 0; rowStart < total; rowStart += ROWS_PER_READ) {
      const rowEnd = Math.min(total, rowStart + ROWS_PER_READ);
      let rows: Record<string, unknown>[] = [];
      try {
        // One column per call: with several, a corrupt column's rejected promise can escape
        // hyparquet unhandled while a sibling's error is thrown (found by the fuzz test).
        for (const [c, column] of columns.entries()) {
          const part = await parquetReadObjects({
            file: buffer,
            metadata,
            rowStart,
            rowEnd,
            columns: [column],
            compressors,
            utf8: true,
          });
          if (c === 0) rows = part;
          else if (part.length !== rows.length) {
            throw new Error(`column "${column}" has ${part.length} rows, expected ${rows.length}`);
          } else {
            for (let i = 0; i < part.length; i++) {
              (rows[i] as Record<string, unknown>)[column] = (part[i] as Record<string, unknown>)[column];
            }
          }
        }
      } catch (err) {
        throw new DatasetError(
          "bad_format",
          `Parquet rows ${rowStart + 1}–${rowEnd} are unreadable: ${(err as Error).message}`,
          { file },
        );
      }
      for (let i = 0; i < rows.length; i++) {
        yield {
          kind: "row",
          row: normalizeParquetRow(rows[i] as Record<string, unknown>),
          line: rowStart + i + 1,
        };
      }
    }
  } finally {
    await handle.close();
  }
}

/** BigInt and Date values become JSON-safe so rows survive JSON.stringify into the version. */
function normalizeParquetRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(row)) {
    const v = row[key];
    if (typeof v === "bigint") row[key] = Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    else if (v instanceof Date) row[key] = v.toISOString();
  }
  return row;
}
