import "server-only";
import { ZDatabaseUrl, ZRedisUrl } from "@distillery/core";
import { ZS3Env } from "@distillery/storage";
import { z } from "zod";

/** Every setting of the web app; S3_* selects S3-compatible blob storage instead of the data folder. */
export const ZWebEnv = ZS3Env.extend({
  DATABASE_URL: ZDatabaseUrl,
  REDIS_URL: ZRedisUrl,
  DISTILLERY_DATA_DIR: z.string().default(".data"),
  /**
   * models served by a GPU server (`python -m distillery_trainer.serve`, or vLLM's): JSON
   * `{"<model id>": "http://host:port"}` or `{"<model id>": {"url", "apiKey"}}`; /v1 forwards them there
   */
  DISTILLERY_GPU_SERVERS: z.string().optional(),
  /** seals teacher API keys (AES-256-GCM, 32 bytes as hex or base64); unset: <data dir>/secret.key */
  DISTILLERY_SECRET_KEY: z.string().optional(),
  QUEUE_PREFIX: z.string().default("distillery"),
  /** a worker is offline when its last heartbeat is older than this */
  WORKER_OFFLINE_AFTER_MS: z.coerce.number().int().min(500).default(10_000),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error"]).default("info"),
  /** largest accepted dataset upload, bytes (default 4 GiB) */
  DATASET_UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 ** 3),
  /** largest accepted file of a model folder upload, bytes (default 20 GiB: one safetensors shard) */
  MODEL_FILE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(20 * 1024 ** 3),
  HF_ENDPOINT: z.url().default("https://huggingface.co"),
  /** the datasets server that lists a Hub dataset's Parquet export (a mirror may serve both) */
  HF_DATASETS_SERVER_URL: z.url().default("https://datasets-server.huggingface.co"),
  /** set by the supervisor of `npm start` when it restarts the web after a crash (shown by /api/health) */
  DISTILLERY_RESTARTS: z.coerce.number().int().min(0).default(0),
  DISTILLERY_LAST_EXIT: z.string().max(100).optional(),
  DISTILLERY_LAST_EXIT_AT: z.string().max(40).optional(),
  /**
   * "accounts" (default): sign-in required, roles per workspace. "local": no sign-in, every request
   * is the local owner — only for a machine nobody else can reach (tests of single routes use it).
   */
  DISTILLERY_AUTH: z.enum(["accounts", "local"]).default("accounts"),
  /** signs session cookies; when unset a random one is kept in the database (Setting auth.secret) */
  BETTER_AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** the studio's public URL (https://distillery.example.com): links in invitations and resets */
  DISTILLERY_PUBLIC_URL: z.url().optional(),
  /**
   * optional mail relay for password-reset links: smtp://user:pass@host:587 (STARTTLS when offered)
   * or smtps://…:465. Unset: the one-time link is printed in the server log for the operator.
   */
  SMTP_URL: z.url().optional(),
  /** the reset mail's sender (default: distillery@<the public URL's host>) */
  SMTP_FROM: z.string().max(300).optional(),
  /** host names the web answers (comma-separated; DNS rebinding guard). Loopback names always. */
  DISTILLERY_ALLOWED_HOSTS: z.string().default(""),
});
export type WebEnv = z.infer<typeof ZWebEnv>;

let cached: WebEnv | undefined;

/**
 * Parsed once; a bad value throws with the variable's name and what is wrong. An empty value
 * counts as unset (docker compose passes `${SMTP_URL:-}` as "").
 */
export function getEnv(): WebEnv {
  if (cached) return cached;
  const parsed = ZWebEnv.safeParse(
    Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== "")),
  );
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid environment:\n${lines.join("\n")}`);
  }
  cached = parsed.data;
  return cached;
}
