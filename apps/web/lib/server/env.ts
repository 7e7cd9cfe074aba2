import "server-only";
import { z } from "zod";

const url = (protocols: string[], example: string) =>
  z.string({ error: `is required (e.g. ${example})` }).refine(
    (v) => {
      try {
        const u = new URL(v);
        return protocols.includes(u.protocol) && u.hostname.length > 0;
      } catch {
        return false;
      }
    },
    `must be a ${protocols.map((p) => `${p}//`).join(" or ")} URL with a host (e.g. ${example})`,
  );

export const ZWebEnv = z.object({
  DATABASE_URL: url(["postgresql:", "postgres:"], "postgresql://user:pass@host:5432/distillery"),
  REDIS_URL: url(["redis:", "rediss:"], "redis://127.0.0.1:6379"),
  DISTILLERY_DATA_DIR: z.string().default(".data"),
  QUEUE_PREFIX: z.string().default("distillery"),
  /** a worker is offline when its last heartbeat is older than this */
  WORKER_OFFLINE_AFTER_MS: z.coerce.number().int().min(500).default(10_000),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error"]).default("info"),
});
export type WebEnv = z.infer<typeof ZWebEnv>;

let cached: WebEnv | undefined;

/** Parsed once; a bad value throws with the variable's name and what is wrong. */
export function getEnv(): WebEnv {
  if (cached) return cached;
  const parsed = ZWebEnv.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid environment:\n${lines.join("\n")}`);
  }
  cached = parsed.data;
  return cached;
}
