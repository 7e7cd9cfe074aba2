import { z } from "zod";
import type { BlobStore } from "./blob-store.ts";
import { createFsBlobStore } from "./fs-blob-store.ts";
import { createS3BlobStore } from "./s3-blob-store.ts";

/** The S3_* settings of an app's env; all-or-nothing: a partial set is an error naming what is missing. */
export const ZS3Env = z.object({
  S3_BUCKET: z.string().min(1).optional(),
  S3_ENDPOINT: z.url({ error: "must be a URL such as http://127.0.0.1:9000" }).optional(),
  S3_REGION: z.string().default("us-east-1"),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
  S3_PREFIX: z.string().optional(),
});
export type S3Env = z.infer<typeof ZS3Env>;

/** A folder under the data dir unless S3_BUCKET is set. */
export function createBlobStore(env: S3Env & { blobDir: string }): BlobStore {
  if (!env.S3_BUCKET) return createFsBlobStore(env.blobDir);
  const missing = (["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const).filter((k) => !env[k]);
  if (missing.length > 0) throw new Error(`${missing.join(", ")}: required when S3_BUCKET is set`);
  return createS3BlobStore({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    bucket: env.S3_BUCKET,
    accessKeyId: env.S3_ACCESS_KEY_ID ?? "",
    secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "",
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    prefix: env.S3_PREFIX,
  });
}
