import type { CanonicalExample, DatasetMapping } from "@distillery/core";
import { DatasetError } from "./dataset-error.ts";
import { authHeaders, type HubOptions, listHubParquetFiles } from "./hub-parquet-files.ts";
import {
  type BadRowPolicy,
  type IngestProgress,
  type IngestReport,
  ingestDataset,
} from "./ingest-dataset.ts";
import type { IngestLimitsInput } from "./ingest-limits.ts";
import type { DatasetSource } from "./open-records.ts";
import type { RowSink } from "./row-sink.ts";

export interface ImportFromHubOptions extends HubOptions {
  sink: RowSink;
  mapping?: DatasetMapping;
  policy?: BadRowPolicy;
  limits?: IngestLimitsInput;
  onRow?: (example: CanonicalExample) => void | Promise<void> | undefined;
  onProgress?: (progress: IngestProgress) => void;
}

/**
 * Resolves a Hub dataset's Parquet files for a config/split and streams each download into one
 * version (Parquet needs random access, so each file is spooled to a temp file by the reader and
 * removed after). The bearer token goes to the Hub only: fetch drops it on cross-origin redirects
 * to the CDN.
 */
export async function importFromHub(o: ImportFromHubOptions): Promise<IngestReport & { hubFiles: string[] }> {
  let files: Awaited<ReturnType<typeof listHubParquetFiles>>;
  try {
    files = await listHubParquetFiles(o);
  } catch (err) {
    await o.sink.abort(err);
    throw err;
  }
  const sources: DatasetSource[] = files.map((f) => ({
    fileName: `${f.config}-${f.split}-${f.filename}`,
    stream: download(f.url, o),
  }));
  const report = await ingestDataset({
    source: sources,
    sink: o.sink,
    ...(o.mapping ? { mapping: o.mapping } : {}),
    ...(o.policy ? { policy: o.policy } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.onRow ? { onRow: o.onRow } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return { ...report, hubFiles: files.map((f) => f.url) };
}

/** A lazy download: the request starts when the ingest reaches this file. */
async function* download(url: string, o: HubOptions): AsyncGenerator<Uint8Array> {
  const res = await (o.fetch ?? fetch)(url, {
    headers: authHeaders(o.token),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (!res.ok || !res.body) {
    throw new DatasetError(
      "hub",
      `downloading ${url} failed: HTTP ${res.status}${res.status === 401 || res.status === 403 ? " (gated: check the token)" : ""}`,
    );
  }
  yield* res.body as unknown as AsyncIterable<Uint8Array>;
}
