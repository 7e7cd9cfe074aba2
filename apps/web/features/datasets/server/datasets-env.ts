import "server-only";
import type { BlobStore } from "@distillery/storage";
import { getContext } from "@/lib/server/context.ts";
import { getEnv, type WebEnv } from "@/lib/server/env.ts";

/** The datasets feature's settings (parsed with the rest in lib/server/env.ts) and blob store. */
export function getDatasetsContext(): { env: WebEnv; store: BlobStore } {
  return { env: getEnv(), store: getContext().store };
}
