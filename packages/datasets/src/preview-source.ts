import { type DetectedShape, detectShape } from "@distillery/core";
import { DatasetError } from "./dataset-error.ts";
import { type IngestLimitsInput, ZIngestLimits } from "./ingest-limits.ts";
import { type DatasetSource, openRecords } from "./open-records.ts";
import type { RecordEvent } from "./record-event.ts";
import type { DatasetFormat } from "./sniff-format.ts";

export interface SourcePreview {
  fileName: string;
  format: DatasetFormat;
  compressed: boolean;
  columns: string[];
  /** raw rows, for the mapping editor's live preview (mapRow + toEngineExample run in the browser) */
  rows: Record<string, unknown>[];
  badRows: Extract<RecordEvent, { kind: "bad" }>[];
  detected: DetectedShape | null;
}

/** A preview reads at most this long; the reading yields between chunks, so others are served. */
export const PREVIEW_DEADLINE_MS = 10_000;

/**
 * Reads only the first rows of a source: what the UI needs before the user confirms a mapping.
 * Bounded in columns (`limits.maxColumns`), row size (`maxLineBytes`), nesting (a row nested past
 * the depth limit is refused: it could not be shown) and time.
 */
export async function previewSource(
  source: DatasetSource,
  options: { rows?: number; limits?: IngestLimitsInput; deadlineMs?: number } = {},
): Promise<SourcePreview> {
  const want = options.rows ?? 20;
  const limits = ZIngestLimits.parse(options.limits ?? {});
  const deadline = Date.now() + (options.deadlineMs ?? PREVIEW_DEADLINE_MS);
  const opened = await openRecords(source, limits);
  const rows: Record<string, unknown>[] = [];
  const badRows: Extract<RecordEvent, { kind: "bad" }>[] = [];
  const columns = new Set<string>();
  for await (const event of opened.records) {
    if (event.kind === "row") {
      for (const key of Object.keys(event.row)) {
        columns.add(key);
        if (columns.size > limits.maxColumns)
          throw new DatasetError(
            "too_many_columns",
            `the rows have more than ${limits.maxColumns.toLocaleString("en-US")} distinct columns (the limit is ${limits.maxColumns.toLocaleString("en-US")})`,
            { file: opened.fileName, line: event.line },
          );
      }
      rows.push(event.row);
    } else if (event.code === "too_deep") {
      throw new DatasetError("too_deep", event.reason, { file: opened.fileName, line: event.line });
    } else badRows.push(event);
    if (rows.length + badRows.length >= want) break;
    if (Date.now() > deadline)
      throw new DatasetError(
        "too_large",
        `the first rows took longer than ${Math.round((options.deadlineMs ?? PREVIEW_DEADLINE_MS) / 1000)} s to read`,
        { file: opened.fileName },
      );
  }
  return {
    fileName: opened.fileName,
    format: opened.format,
    compressed: opened.compressed,
    columns: [...columns],
    rows,
    badRows,
    detected: detectShape(rows),
  };
}
