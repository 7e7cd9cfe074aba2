import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readVersionRows } from "@distillery/datasets";
import type { BlobStore } from "@distillery/storage";

/** A version's rows: straight from the folder store, or from a local copy of the S3 object. */
export async function openVersionRows(store: BlobStore, blobKey: string) {
  const local = store.localPath(blobKey);
  if (local) return { readRows: () => readVersionRows(local), close: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), "distillery-prompts-"));
  const path = join(dir, "rows.jsonl.gz");
  try {
    await store.getToFile(blobKey, path);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return { readRows: () => readVersionRows(path), close: () => rm(dir, { recursive: true, force: true }) };
}
