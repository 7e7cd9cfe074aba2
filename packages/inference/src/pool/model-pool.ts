import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type ChatTemplateSpec, getModelTemplate, resolveTemplate } from "@distillery/core";
// the tokenizer alone: engine-local's index also resolves its CLI (tsx), which must stay out of the web bundle
import { type EngineTokenizer, loadTokenizer } from "@distillery/engine-local/tokenizer";
import { type ModelBackend, startEngineBackend } from "../engine/engine-backend.ts";
import { readTokenizerConfig, type ServableFiles } from "./servable-models.ts";

export interface LoadedModel {
  id: string;
  backend: ModelBackend;
  tokenizer: EngineTokenizer;
  template: ChatTemplateSpec;
  /** estimated resident bytes (weights, their packed copy, KV slots) */
  bytes: number;
}

export type ModelState = "loading" | "ready";

export interface ModelPoolOptions {
  /** resident models are evicted, least recently used first, to stay within this */
  budgetBytes: number;
  /** sequences decoded together per model */
  slots: number;
  /** the files behind a model id (throws UnknownModelError) */
  resolve: (id: string) => Promise<ServableFiles>;
  /** matmul threads per model process */
  threads?: number;
  /** "ort": onnxruntime-node on the ONNX export (plain models; adapters run on the engine) */
  backend?: "engine" | "ort";
  /** the backend to start (the engine's own generation by default) */
  startBackend?: (
    files: ServableFiles,
    options: { slots: number; threads?: number },
  ) => Promise<ModelBackend>;
  log?: (message: string) => void;
}

export interface ModelPool {
  /** the model, loaded on demand (concurrent callers share one load) */
  acquire(id: string): Promise<LoadedModel>;
  stateOf(id: string): ModelState | null;
  list(): { id: string; state: ModelState; bytes: number; active: number }[];
  evict(id: string): Promise<boolean>;
  close(): Promise<void>;
}

function filesBytes(dir: string | undefined): number {
  if (!dir) return 0;
  let n = 0;
  for (const f of readdirSync(/* turbopackIgnore: true */ dir))
    if (f.endsWith(".safetensors") || f.endsWith(".bin"))
      n += statSync(join(/* turbopackIgnore: true */ dir, f)).size;
  return n;
}

function kvBytes(dir: string, slots: number): number {
  try {
    const c = JSON.parse(
      readFileSync(join(/* turbopackIgnore: true */ dir, "config.json"), "utf8"),
    ) as Record<string, number>;
    const heads = c.num_attention_heads ?? 1;
    const kvHeads = c.num_key_value_heads ?? heads;
    const headDim = c.head_dim ?? (c.hidden_size ?? 0) / heads;
    return (
      (c.num_hidden_layers ?? 0) * 2 * slots * (c.max_position_embeddings ?? 2048) * kvHeads * headDim * 4
    );
  } catch {
    return 0;
  }
}

/** The weights as float32 twice (as loaded, and packed for the kernel), plus the KV slots. */
export function estimateModelBytes(files: ServableFiles, slots: number): number {
  return 2 * (filesBytes(files.modelDir) + filesBytes(files.adapterDir)) + kvBytes(files.modelDir, slots);
}

function loadServingTokenizer(files: ServableFiles): EngineTokenizer {
  if (files.adapterDir) {
    try {
      // an adapter that added <think>/</think> ships the grown tokenizer
      return loadTokenizer(files.adapterDir);
    } catch {
      // an adapter without tokenizer files uses the base model's
    }
  }
  return loadTokenizer(files.modelDir);
}

/** The chat template a served model uses: its own (adapter first), else the run's template id. */
export function loadChatTemplate(files: ServableFiles, id: string): ChatTemplateSpec {
  const config =
    (files.adapterDir ? readTokenizerConfig(files.adapterDir) : null) ?? readTokenizerConfig(files.modelDir);
  if (config && config.chat_template) return getModelTemplate(config, id);
  return resolveTemplate(files.templateId);
}

export function createModelPool(options: ModelPoolOptions): ModelPool {
  const log = options.log ?? (() => {});
  const start =
    options.startBackend ??
    ((files, o) =>
      startEngineBackend({
        modelDir: files.modelDir,
        adapterDir: files.adapterDir,
        slots: o.slots,
        threads: o.threads,
        backend: options.backend,
      }));
  const ready = new Map<string, LoadedModel>();
  const loading = new Map<string, Promise<LoadedModel>>();
  /** ids, least recently used first */
  let order: string[] = [];
  const touch = (id: string) => {
    order = [...order.filter((x) => x !== id), id];
  };

  async function makeRoom(bytes: number) {
    let used = [...ready.values()].reduce((s, m) => s + m.bytes, 0);
    for (const id of [...order]) {
      if (used + bytes <= options.budgetBytes) break;
      const m = ready.get(id);
      if (!m || m.backend.activeCount > 0) continue;
      log(`[inference] evicting ${id} (${(m.bytes / 2 ** 20).toFixed(1)} MiB) to load within the budget`);
      ready.delete(id);
      order = order.filter((x) => x !== id);
      used -= m.bytes;
      await m.backend.close();
    }
  }

  async function load(id: string): Promise<LoadedModel> {
    const files = await options.resolve(id);
    const tokenizer = loadServingTokenizer(files);
    const template = loadChatTemplate(files, id);
    const bytes = estimateModelBytes(files, options.slots);
    await makeRoom(bytes);
    const started = performance.now();
    const backend = await start(files, { slots: options.slots, threads: options.threads });
    log(`[inference] loaded ${id} (${backend.name}) in ${(performance.now() - started).toFixed(0)} ms`);
    return { id, backend, tokenizer, template, bytes };
  }

  return {
    async acquire(id) {
      const have = ready.get(id);
      if (have?.backend.isAlive) {
        touch(id);
        return have;
      }
      // its process died (killed, out of memory): load it again
      if (have) {
        log(`[inference] ${id}: its model process exited; loading it again`);
        ready.delete(id);
        order = order.filter((x) => x !== id);
      }
      let pending = loading.get(id);
      if (!pending) {
        pending = load(id)
          .then((m) => {
            ready.set(id, m);
            touch(id);
            return m;
          })
          .finally(() => loading.delete(id));
        loading.set(id, pending);
      }
      return pending;
    },
    stateOf(id) {
      if (ready.has(id)) return "ready";
      if (loading.has(id)) return "loading";
      return null;
    },
    list() {
      return [
        ...[...loading.keys()].map((id) => ({ id, state: "loading" as const, bytes: 0, active: 0 })),
        ...[...ready.values()].map((m) => ({
          id: m.id,
          state: "ready" as const,
          bytes: m.bytes,
          active: m.backend.activeCount,
        })),
      ];
    },
    async evict(id) {
      const m = ready.get(id);
      if (!m) return false;
      ready.delete(id);
      order = order.filter((x) => x !== id);
      await m.backend.close();
      return true;
    },
    async close() {
      await Promise.allSettled([...loading.values()]);
      const all = [...ready.values()];
      ready.clear();
      order = [];
      await Promise.all(all.map((m) => m.backend.close()));
    },
  };
}
