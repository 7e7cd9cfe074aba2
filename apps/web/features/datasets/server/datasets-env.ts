import "server-only";
import { join, resolve } from "node:path";
import { type BlobStore, createBlobStore, ZS3Env } from "@distillery/storage";
import { z } from "zod";
import { getEnv } from "@/lib/server/env.ts";

/**
 * The datasets feature's settings, parsed once (like lib/server/env.ts, which they should join):
 * the blob store (a folder under DISTILLERY_DATA_DIR unless S3_* is set, as in the worker), the
 * upload size limit and the Hub endpoint.
 */
export const ZDatasetsEnv = ZS3Env.extend({
  /** largest accepted upload, bytes (default 4 GiB) */
  DATASET_UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 ** 3),
  HF_ENDPOINT: z.url().default("https://huggingface.co"),
  /** the datasets server that lists a Hub dataset's Parquet export (a mirror may serve both) */
  HF_DATASETS_SERVER_URL: z.url().default("https://datasets-server.huggingface.co"),
});
export type DatasetsEnv = z.infer<typeof ZDatasetsEnv>;

export function parseDatasetsEnv(source: Record<string, string | undefined>): DatasetsEnv {
  const parsed = ZDatasetsEnv.safeParse(source);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
  throw new Error(`invalid environment:\n${lines.join("\n")}`);
}

const cache = globalThis as unknown as { distilleryDatasets?: { env: DatasetsEnv; store: BlobStore } };

export function getDatasetsContext(): { env: DatasetsEnv; store: BlobStore } {
  if (cache.distilleryDatasets) return cache.distilleryDatasets;
  const env = parseDatasetsEnv(process.env);
  const store = createBlobStore({ ...env, blobDir: join(resolve(getEnv().DISTILLERY_DATA_DIR), "blobs") });
  cache.distilleryDatasets = { env, store };
  return cache.distilleryDatasets;
}
