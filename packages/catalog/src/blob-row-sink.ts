import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createFsRowSink, type RowSink } from "@distillery/datasets";
import type { BlobStore } from "@distillery/storage";

/**
 * A RowSink whose committed rows land at `key` in the blob store: written in place (temp +
 * rename) for a folder store, or to a local temp file uploaded on commit for S3. Nothing is
 * visible at `key` until commit succeeds.
 */
export function createBlobRowSink(store: BlobStore, key: string): RowSink {
  const local = store.localPath(key);
  const fileName = key.split("/").at(-1) ?? "rows.jsonl.gz";
  if (local) {
    const sink = createFsRowSink({ dir: dirname(local), fileName });
    return {
      write: (rows) => sink.write(rows),
      abort: (reason) => sink.abort(reason),
      async commit() {
        const result = await sink.commit();
        return { ...result, location: key };
      },
    };
  }
  const temp = mkdtempSync(join(tmpdir(), "distillery-rows-"));
  const sink = createFsRowSink({ dir: temp, fileName });
  return {
    write: (rows) => sink.write(rows),
    async abort(reason) {
      await sink.abort(reason);
      rmSync(temp, { recursive: true, force: true });
    },
    async commit() {
      try {
        const result = await sink.commit();
        const { bytes } = await store.putFile(key, result.location);
        return {
          rows: result.rows,
          bytes,
          location: key,
          ...(result.blocks ? { blocks: result.blocks } : {}),
        };
      } finally {
        rmSync(temp, { recursive: true, force: true });
      }
    },
  };
}
