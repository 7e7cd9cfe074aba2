import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { type Db, newId } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Parameter count from an HF config.json (Llama/Qwen2 shapes), for the launch summary. */
export function countLlamaParameters(config: Record<string, number | boolean | string | undefined>): number {
  const h = Number(config.hidden_size ?? 0);
  const v = Number(config.vocab_size ?? 0);
  const layers = Number(config.num_hidden_layers ?? 0);
  const inter = Number(config.intermediate_size ?? 0);
  const heads = Number(config.num_attention_heads ?? 1);
  const kvHeads = Number(config.num_key_value_heads ?? heads);
  const headDim = Number(config.head_dim ?? h / heads);
  const attn = h * heads * headDim * 2 + h * kvHeads * headDim * 2;
  const perLayer = attn + 3 * h * inter + 2 * h;
  return v * h * (config.tie_word_embeddings ? 1 : 2) + layers * perLayer + h;
}

/**
 * Registers a local HF model directory as a base model: its files go to `models/<id>/` in blob
 * storage (so every worker can fetch them), its row records shape, size and chat template.
 */
export async function registerModelDir(
  db: Db,
  store: BlobStore,
  input: { workspaceId: string; name: string; dir: string; hubId?: string; engines?: string[]; id?: string },
) {
  const configPath = join(input.dir, "config.json");
  if (!existsSync(configPath))
    throw new Error(`${input.dir} is not a Hugging Face model directory: config.json is missing`);
  const config = JSON.parse(readFileSync(configPath, "utf8")) as Record<
    string,
    number | boolean | undefined
  > & { model_type?: string };
  const tokenizerConfigPath = join(input.dir, "tokenizer_config.json");
  const chatTemplate = existsSync(tokenizerConfigPath)
    ? ((JSON.parse(readFileSync(tokenizerConfigPath, "utf8")) as { chat_template?: string }).chat_template ??
      null)
    : null;
  const id = input.id ?? newId("mdl");
  const prefix = `models/${id}`;
  for (const file of listFiles(input.dir)) {
    if (!statSync(file).isFile()) continue;
    await store.putFile(`${prefix}/${relative(input.dir, file).split(sep).join("/")}`, file);
  }
  return db.model.upsert({
    where: { workspaceId_name: { workspaceId: input.workspaceId, name: input.name } },
    update: {
      location: `blob:${prefix}`,
      chatTemplate,
      parameters: BigInt(countLlamaParameters(config)),
      config,
    },
    create: {
      id,
      workspaceId: input.workspaceId,
      name: input.name,
      hubId: input.hubId ?? null,
      architecture: String(config.model_type ?? "llama"),
      parameters: BigInt(countLlamaParameters(config)),
      location: `blob:${prefix}`,
      chatTemplate,
      config,
      engines: input.engines ?? ["local", "hf"],
    },
  });
}

/** A Hub model the hf engine loads by id (no local files). */
export async function registerHubModel(
  db: Db,
  input: { workspaceId: string; name: string; hubId: string; parameters?: number },
) {
  return db.model.upsert({
    where: { workspaceId_name: { workspaceId: input.workspaceId, name: input.name } },
    update: {},
    create: {
      id: newId("mdl"),
      workspaceId: input.workspaceId,
      name: input.name,
      hubId: input.hubId,
      parameters: input.parameters ? BigInt(input.parameters) : null,
      engines: ["hf"],
    },
  });
}
