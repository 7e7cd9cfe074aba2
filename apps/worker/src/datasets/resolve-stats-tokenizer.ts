import { listTokenizerModels } from "@distillery/catalog";
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

async function readJson(store: BlobStore, key: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

/**
 * The tokenizer statistics are counted with: the chosen model's tokenizer.json, else the
 * catalog's default (the newest model the user brought, else the newest a run registered), else
 * bytes, labelled as such.
 */
export async function resolveStatsTokenizer(
  db: Db,
  store: BlobStore,
  input: { workspaceId: string; modelId?: string },
): Promise<{ counter: TokenCounter; tokenizer: StatsTokenizer }> {
  if (input.modelId) {
    const found = await db.model.count({ where: { workspaceId: input.workspaceId, id: input.modelId } });
    if (found === 0) throw new DatasetError("unavailable", `model ${input.modelId} does not exist`);
  }
  const models = await listTokenizerModels(db, (key) => store.exists(key), input.workspaceId);
  const m = input.modelId ? models.find((x) => x.id === input.modelId) : models[0];
  if (!m && input.modelId)
    throw new DatasetError("unavailable", `model ${input.modelId} has no tokenizer.json`);
  if (!m)
    return {
      counter: createByteTokenCounter(),
      tokenizer: { kind: "bytes", reason: "no model in this workspace has a tokenizer.json" },
    };
  const json = await readJson(store, m.tokenizerKey);
  const configKey = m.tokenizerKey.replace(/tokenizer\.json$/, "tokenizer_config.json");
  const config = (await store.exists(configKey)) ? await readJson(store, configKey) : {};
  const counter = createTokenCounter(json, config);
  return { counter, tokenizer: { kind: "model", modelId: m.id, modelName: m.name, path: counter.path } };
}
