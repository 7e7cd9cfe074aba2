import "server-only";
import { resolve } from "node:path";
import { resolveSecretKey } from "@distillery/teacher";
import { getEnv } from "@/lib/server/env.ts";

let cached: Buffer | undefined;

/** The key that seals teacher API keys: DISTILLERY_SECRET_KEY, else <data dir>/secret.key. */
export function getTeacherSecretKey(): Buffer {
  if (cached) return cached;
  const env = getEnv();
  cached = resolveSecretKey({ value: env.DISTILLERY_SECRET_KEY, dataDir: resolve(env.DISTILLERY_DATA_DIR) });
  return cached;
}
