import { createTokenCounter, DatasetError, type TokenCounter } from "@distillery/datasets";
import type { Db } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";

/** Which tokenizer counted a version's tokens; recorded in `version.stats.tokenizer`. */
export type StatsTokenizer =
  | { kind: "model"; modelId: string; modelName: string; path: "fast" | "generic" }
  | { kind: "bytes"; reason: string };

/**
 * The byte-level fallback: one token per UTF-8 byte, an upper bound of any byte-level BPE
 * count. packages/datasets does not ship one, so it lives here (see the README).
 */
export function createByteTokenCounter(): TokenCounter {
  return { path: "fast", count: (text) => Buffer.byteLength(text, "utf8") };
}

const modelPrefix = (location: string | null) =>
  location?.startsWith("blob:") ? location.slice("blob:".length).replace(/\/+$/, "") : null;

async function readJson(store: BlobStore, key: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

/**
 * The tokenizer statistics are counted with: the chosen model's tokenizer.json, else the
 * workspace's first model (oldest) that has one in blob storage, else bytes.
 */
export async function resolveStatsTokenizer(
  db: Db,
  store: BlobStore,
  input: { workspaceId: string; modelId?: string },
): Promise<{ counter: TokenCounter; tokenizer: StatsTokenizer }> {
  const models = await db.model.findMany({
    where: { workspaceId: input.workspaceId, ...(input.modelId ? { id: input.modelId } : {}) },
    orderBy: { createdAt: "asc" },
    select: { id: true, name: true, location: true },
  });
  if (input.modelId && models.length === 0)
    throw new DatasetError("unavailable", `model ${input.modelId} does not exist`);
  for (const m of models) {
    const prefix = modelPrefix(m.location);
    if (!prefix || !(await store.exists(`${prefix}/tokenizer.json`))) continue;
    const json = await readJson(store, `${prefix}/tokenizer.json`);
    const config = (await store.exists(`${prefix}/tokenizer_config.json`))
      ? await readJson(store, `${prefix}/tokenizer_config.json`)
      : {};
    const counter = createTokenCounter(json, config);
    return { counter, tokenizer: { kind: "model", modelId: m.id, modelName: m.name, path: counter.path } };
  }
  if (input.modelId) throw new DatasetError("unavailable", `model ${input.modelId} has no tokenizer.json`);
  return {
    counter: createByteTokenCounter(),
    tokenizer: { kind: "bytes", reason: "no model in this workspace has a tokenizer.json" },
  };
}
