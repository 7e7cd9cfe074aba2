import { type DetectedShape, detectShape } from "@distillery/core";
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

/** Reads only the first rows of a source: what the UI needs before the user confirms a mapping. */
export async function previewSource(
  source: DatasetSource,
  options: { rows?: number; limits?: IngestLimitsInput } = {},
): Promise<SourcePreview> {
  const want = options.rows ?? 20;
  const opened = await openRecords(source, ZIngestLimits.parse(options.limits ?? {}));
  const rows: Record<string, unknown>[] = [];
  const badRows: Extract<RecordEvent, { kind: "bad" }>[] = [];
  for await (const event of opened.records) {
    if (event.kind === "row") rows.push(event.row);
    else badRows.push(event);
    if (rows.length + badRows.length >= want) break;
  }
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return {
    fileName: opened.fileName,
    format: opened.format,
    compressed: opened.compressed,
    columns,
    rows,
    badRows,
    detected: detectShape(rows),
  };
}
