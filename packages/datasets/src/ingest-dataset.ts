import {
  type CanonicalExample,
  type DatasetMapping,
  type DatasetShape,
  detectShape,
  mapRow,
  nameShape,
  ZDatasetMapping,
} from "@distillery/core";
import { DatasetError, type RowError } from "./dataset-error.ts";
import { type IngestLimitsInput, ZIngestLimits } from "./ingest-limits.ts";
import { type DatasetSource, openRecords } from "./open-records.ts";
import type { RecordEvent } from "./record-event.ts";
import type { RowSink, RowSinkResult } from "./row-sink.ts";
import type { DatasetFormat } from "./sniff-format.ts";

export type BadRowPolicy = "skip" | "reject";

export interface IngestProgress {
  file: string;
  bytesRead: number;
  rows: number;
  badRows: number;
}

export interface IngestOptions {
  /** one file, or several (a Hub split's shards) written into one version */
  source: DatasetSource | DatasetSource[];
  sink: RowSink;
  /** omitted: detected from the first rows of the first file */
  mapping?: DatasetMapping;
  policy?: BadRowPolicy;
  limits?: IngestLimitsInput;
  /** sees every accepted row, e.g. a TokenStats accumulator */
  onRow?: (example: CanonicalExample) => void | Promise<void> | undefined;
  onProgress?: (progress: IngestProgress) => void;
  signal?: AbortSignal;
  batchSize?: number;
}

export interface IngestFileReport {
  fileName: string;
  format: DatasetFormat;
  compressed: boolean;
  bytesRead: number;
  rows: number;
  badRows: number;
}

/**
 * A conversion the import made without failing the row, counted per kind with the first place
 * it happened: numbers or booleans stored as text, a number JSON cannot hold (`1e999` →
 * "Infinity"), a key given twice in a row's JSON (the last one kept).
 */
export interface IngestCoercion {
  kind: "number-as-text" | "non-finite-number" | "duplicate-key";
  rows: number;
  first: { file: string; line: number; field: string };
}

const COERCION_TEXT: Record<IngestCoercion["kind"], string> = {
  "number-as-text": "numbers or booleans stored as text",
  "non-finite-number": 'numbers too large for JSON stored as text (e.g. 1e999 → "Infinity")',
  "duplicate-key": "a key given twice in one row (the last value was kept)",
};

/** One line per coercion, for the import summary. */
export function describeCoercion(c: IngestCoercion): string {
  return `${c.rows.toLocaleString("en-US")} row${c.rows === 1 ? "" : "s"}: ${COERCION_TEXT[c.kind]}; first at ${c.first.file}, line ${c.first.line}, field "${c.first.field}"`;
}

export interface IngestReport {
  files: IngestFileReport[];
  shape: DatasetShape;
  mapping: DatasetMapping;
  /** column names seen in the sampled rows */
  columns: string[];
  rows: number;
  badRows: number;
  /** the first `limits.maxReportedErrors` bad rows */
  errors: RowError[];
  /** silent conversions, reported (see IngestCoercion) */
  coercions: IngestCoercion[];
  sink: RowSinkResult;
}

const DETECT_ROWS = 20;

/**
 * Streams sources → raw records → CanonicalExample → sink, in batches. Under "reject" the first
 * bad row fails the import; under "skip" bad rows are counted and reported. Any failure aborts
 * the sink, so a failed import leaves nothing behind.
 */
export async function ingestDataset(options: IngestOptions): Promise<IngestReport> {
  const limits = ZIngestLimits.parse(options.limits ?? {});
  const policy = options.policy ?? "skip";
  const batchSize = options.batchSize ?? 512;
  const sources = Array.isArray(options.source) ? options.source : [options.source];
  let mapping = options.mapping ? ZDatasetMapping.parse(options.mapping) : undefined;
  let shape: DatasetShape = "custom";
  const columns = new Set<string>();
  const errors: RowError[] = [];
  const files: IngestFileReport[] = [];
  let rows = 0;
  let badRows = 0;
  let batch: CanonicalExample[] = [];
  const coercions = new Map<IngestCoercion["kind"], IngestCoercion>();
  const noteCoercion = (kind: IngestCoercion["kind"], file: string, line: number, field: string) => {
    const c = coercions.get(kind);
    if (c) c.rows++;
    else coercions.set(kind, { kind, rows: 1, first: { file, line, field } });
  };
  // the first rows of the first file, to name the shape of a mapping the caller gave
  const namingSample: Record<string, unknown>[] = [];

  const reportBad = (error: RowError) => {
    badRows++;
    if (policy === "reject") {
      throw new DatasetError("bad_row", error.reason, {
        file: error.file,
        line: error.line,
        ...(error.field ? { field: error.field } : {}),
      });
    }
    if (errors.length < limits.maxReportedErrors) errors.push(error);
  };

  try {
    for (const source of sources) {
      const opened = await openRecords(source, limits);
      const file = opened.fileName;
      const fileReport: IngestFileReport = {
        fileName: file,
        format: opened.format,
        compressed: opened.compressed,
        bytesRead: 0,
        rows: 0,
        badRows: 0,
      };
      files.push(fileReport);
      const badBefore = badRows;
      const sample: Extract<RecordEvent, { kind: "row" }>[] = [];
      let seenRows = 0;

      const accept = async (event: Extract<RecordEvent, { kind: "row" }>, m: DatasetMapping) => {
        const mapped = mapRow(event.row, m);
        if (!mapped.ok)
          return reportBad({ file, line: event.line, field: mapped.field, reason: mapped.reason });
        if (mapped.coercions) {
          const seen = new Set<string>();
          for (const c of mapped.coercions)
            if (!seen.has(c.kind)) {
              seen.add(c.kind);
              noteCoercion(c.kind, file, event.line, c.field);
            }
        }
        if (event.duplicateKey !== undefined)
          noteCoercion("duplicate-key", file, event.line, event.duplicateKey);
        const pending = options.onRow?.(mapped.example);
        if (pending) await pending;
        batch.push(mapped.example);
        rows++;
        fileReport.rows++;
        if (batch.length >= batchSize) {
          const full = batch;
          batch = [];
          await options.sink.write(full);
          if (options.signal?.aborted) throw new DatasetError("aborted", "import cancelled");
          options.onProgress?.({ file, bytesRead: opened.bytesRead(), rows, badRows });
        }
      };

      for await (const event of opened.records) {
        if (event.kind === "bad") {
          reportBad({ file, line: event.line, reason: event.reason });
          continue;
        }
        // columns are reported from each file's first rows, not collected from every row
        if (seenRows++ < DETECT_ROWS) {
          if (columns.size < 1000) for (const k of Object.keys(event.row)) columns.add(k);
          if (files.length === 1) namingSample.push(event.row);
        }
        if (!mapping) {
          sample.push(event);
          if (sample.length < DETECT_ROWS) continue;
          ({ mapping, shape } = detectOrThrow(sample, file));
          for (const s of sample) await accept(s, mapping);
          sample.length = 0;
          continue;
        }
        await accept(event, mapping);
      }
      if (!mapping && sample.length > 0) {
        ({ mapping, shape } = detectOrThrow(sample, file));
        for (const s of sample) await accept(s, mapping);
      }
      fileReport.bytesRead = opened.bytesRead();
      fileReport.badRows = badRows - badBefore;
      options.onProgress?.({ file, bytesRead: opened.bytesRead(), rows, badRows });
    }
    if (batch.length > 0) await options.sink.write(batch);
    if (rows === 0 || !mapping) {
      const where = sources.length === 1 ? (files[0]?.fileName ?? "") : `${sources.length} files`;
      throw new DatasetError(
        "empty",
        badRows > 0 ? `no valid rows (${badRows} bad; the first: ${errors[0]?.reason ?? "?"})` : "no rows",
        { file: where },
      );
    }
    // rows held back for shape detection report late; keep the report in file order
    const fileOrder = new Map(files.map((f, i) => [f.fileName, i]));
    errors.sort((a, b) => (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) || a.line - b.line);
    if (options.mapping) shape = nameShape(namingSample, mapping);
    const sink = await options.sink.commit();
    return {
      files,
      shape,
      mapping,
      columns: [...columns],
      rows,
      badRows,
      errors,
      coercions: [...coercions.values()],
      sink,
    };
  } catch (err) {
    await options.sink.abort(err);
    throw err;
  }
}

function detectOrThrow(sample: Extract<RecordEvent, { kind: "row" }>[], file: string) {
  const detected = detectShape(sample.map((s) => s.row));
  if (!detected) {
    const cols = [...new Set(sample.flatMap((s) => Object.keys(s.row)))].slice(0, 20);
    throw new DatasetError(
      "unknown_shape",
      `cannot tell which columns hold the prompt and answer (columns: ${cols.join(", ")}); choose a column mapping`,
      { file },
    );
  }
  return detected;
}
