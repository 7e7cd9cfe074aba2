import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readVersionRows } from "@distillery/datasets";
import type { BlobStore } from "@distillery/storage";

/**
 * A parent version's rows as a re-openable stream (filter and split read them twice): straight
 * from the folder store, or from one local copy of the S3 object, removed by `close()`.
 */
export async function openVersionRows(store: BlobStore, blobKey: string) {
  const local = store.localPath(blobKey);
  if (local) return { readRows: () => readVersionRows(local), close: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), "distillery-parent-"));
  const path = join(dir, "rows.jsonl.gz");
  try {
    await store.getToFile(blobKey, path);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    readRows: () => readVersionRows(path),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
