import { ZDatabaseUrl, ZRedisUrl } from "@distillery/core";
import { ZS3Env } from "@distillery/storage";
import { z } from "zod";

/**
 * The worker's configuration, parsed once at start. Nothing else reads process.env; a bad value
 * stops the process with the variable's name and what is wrong with it.
 */
export const ZWorkerEnv = ZS3Env.extend({
  DATABASE_URL: ZDatabaseUrl,
  REDIS_URL: ZRedisUrl,
  DISTILLERY_DATA_DIR: z.string().default(".data"),
  WORKER_ID: z.string().optional(),
  WORKER_HEARTBEAT_MS: z.coerce.number().int().min(200).max(60_000).default(2_000),
  /** a run whose worker has not heartbeated for this long is re-queued */
  RUN_STALE_AFTER_MS: z.coerce.number().int().min(1_000).default(15_000),
  /** how often queued rows without a queue job (launched while Redis was down) are enqueued */
  QUEUE_SWEEP_EVERY_MS: z.coerce.number().int().min(200).default(10_000),
  /** a queued row younger than this is left to the enqueue that is on its way */
  QUEUE_SWEEP_GRACE_MS: z.coerce.number().int().min(0).default(5_000),
  WORKER_RUN_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  QUEUE_PREFIX: z.string().default("distillery"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error"]).default("info"),
  /** the Python that runs packages/trainer-hf (hf engine) */
  DISTILLERY_PYTHON: z.string().optional(),
  /** "0" turns off the hf engine probe (CPU-only workers start faster) */
  HF_ENGINE: z.enum(["auto", "0"]).default("auto"),
  /** GPU serving (python -m distillery_trainer.serve on demand): "auto" when this worker has the hf engine and a GPU */
  DISTILLERY_GPU_SERVE: z.enum(["auto", "0"]).default("auto"),
  /** GPU memory the served models may take together (MiB); default 90% of the first GPU */
  DISTILLERY_GPU_SERVE_BUDGET_MB: z.coerce.number().int().positive().optional(),
  /** a served model nobody asked for in this long is stopped */
  DISTILLERY_GPU_SERVE_IDLE_TTL_S: z.coerce.number().int().min(10).default(900),
  /** "auto": vLLM when installed, else transformers */
  DISTILLERY_GPU_SERVE_ENGINE: z.enum(["auto", "transformers", "vllm"]).default("auto"),
  /** the address serve processes bind (0.0.0.0 when the studio runs on another machine) */
  DISTILLERY_GPU_SERVE_HOST: z.string().default("127.0.0.1"),
  /** the host the studio reaches them on; default the bind host, or this machine's name for 0.0.0.0 */
  DISTILLERY_GPU_SERVE_ADVERTISE_HOST: z.string().optional(),
  /** a dataset upload not imported after this many hours is deleted (fractions allowed) */
  DATASET_UPLOAD_RETENTION_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
  /** seals teacher API keys (AES-256-GCM, 32 bytes as hex or base64); unset: <data dir>/secret.key */
  DISTILLERY_SECRET_KEY: z.string().optional(),
  /** set by the supervisor of `npm start` when it restarts this worker after a crash */
  DISTILLERY_RESTARTS: z.coerce.number().int().min(0).default(0),
  DISTILLERY_LAST_EXIT: z.string().max(100).optional(),
  DISTILLERY_LAST_EXIT_AT: z.string().max(40).optional(),
});
export type WorkerEnv = z.infer<typeof ZWorkerEnv>;

export function parseWorkerEnv(source: Record<string, string | undefined>): WorkerEnv {
  const parsed = ZWorkerEnv.safeParse(source);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
  throw new Error(`invalid environment:\n${lines.join("\n")}`);
}
