import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";

/**
 * What the Models page shows of a Hugging Face model folder, read from its files without loading
 * the weights: config.json (architecture, context length), the safetensors headers (exact
 * parameter count, dtype), tokenizer_config.json (chat template, special tokens).
 */
export interface ModelFacts {
  architecture: string;
  /** config.architectures[0], e.g. LlamaForCausalLM */
  className: string | null;
  parameters: number | null;
  /** how parameters were counted: exact from safetensors headers, or estimated from config.json */
  parametersFrom: "safetensors" | "config" | null;
  /** the dtype holding most parameters (BF16, F32…) */
  dtype: string | null;
  contextLength: number | null;
  vocabSize: number | null;
  hiddenSize: number | null;
  layers: number | null;
  chatTemplate: string | null;
  specialTokens: {
    bos: string | null;
    eos: string | null;
    pad: string | null;
    unk: string | null;
    added: string[];
  };
  hasTokenizer: boolean;
  weightFiles: string[];
  bytes: number;
}

export class ModelDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelDirError";
  }
}

type Json = Record<string, unknown>;

function readJson(path: string, name: string): Json | null {
  if (!existsSync(path)) return null;
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not a JSON object");
    return v as Json;
  } catch (e) {
    throw new ModelDirError(`${name}: ${(e as Error).message}`);
  }
}

export function listFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(dir, p).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

/** Reads a safetensors header (8-byte little-endian length, then JSON) and counts its tensors. */
export function readSafetensorsHeader(path: string): { parameters: number; byDtype: Record<string, number> } {
  const fd = openSync(path, "r");
  try {
    const len = Buffer.alloc(8);
    if (readSync(fd, len, 0, 8, 0) !== 8)
      throw new ModelDirError(`${path}: too short for a safetensors file`);
    const n = Number(len.readBigUInt64LE(0));
    const size = statSync(path).size;
    if (n <= 0 || n > 100_000_000 || 8 + n > size)
      throw new ModelDirError(`${path}: not a safetensors file (header length ${n}, file ${size} bytes)`);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, 8);
    let header: Record<string, { dtype?: string; shape?: number[] }>;
    try {
      header = JSON.parse(buf.toString("utf8"));
    } catch (e) {
      throw new ModelDirError(`${path}: the safetensors header is not JSON (${(e as Error).message})`);
    }
    let parameters = 0;
    const byDtype: Record<string, number> = {};
    for (const [name, t] of Object.entries(header)) {
      if (name === "__metadata__" || !t?.shape) continue;
      const count = t.shape.reduce((a, b) => a * b, 1);
      parameters += count;
      const dtype = t.dtype ?? "?";
      byDtype[dtype] = (byDtype[dtype] ?? 0) + count;
    }
    return { parameters, byDtype };
  } finally {
    closeSync(fd);
  }
}

function tokenText(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string")
    return (v as { content: string }).content;
  return null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Parameter count of a Llama-shaped decoder from config.json alone (no weights to read). */
export function estimateParametersFromConfig(config: Json): number | null {
  const text = (config.text_config as Json | undefined) ?? config;
  const h = num(text.hidden_size);
  const v = num(text.vocab_size);
  const layers = num(text.num_hidden_layers);
  const inter = num(text.intermediate_size);
  if (!h || !v || !layers || !inter) return null;
  const heads = num(text.num_attention_heads) ?? 1;
  const kvHeads = num(text.num_key_value_heads) ?? heads;
  const headDim = num(text.head_dim) ?? h / heads;
  const attn = h * heads * headDim * 2 + h * kvHeads * headDim * 2;
  const perLayer = attn + 3 * h * inter + 2 * h;
  return v * h * (text.tie_word_embeddings ? 1 : 2) + layers * perLayer + h;
}

/** Context length from whichever key the architecture uses. */
export function contextLengthOf(config: Json): number | null {
  const text = (config.text_config as Json | undefined) ?? config;
  for (const key of [
    "max_position_embeddings",
    "n_positions",
    "max_sequence_length",
    "seq_length",
    "n_ctx",
  ]) {
    const v = num(text[key]);
    if (v) return v;
  }
  return null;
}

export function inspectModelDir(dir: string): ModelFacts {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelDirError(`${dir} is not a folder`);
  const config = readJson(join(dir, "config.json"), "config.json");
  if (!config) throw new ModelDirError(`${dir} is not a Hugging Face model folder: config.json is missing`);
  const files = listFilesUnder(dir);
  const weightFiles = files.filter((f) => f.endsWith(".safetensors"));
  let parameters: number | null = null;
  let parametersFrom: ModelFacts["parametersFrom"] = null;
  let dtype: string | null = null;
  if (weightFiles.length > 0) {
    const byDtype: Record<string, number> = {};
    let total = 0;
    for (const f of weightFiles) {
      const h = readSafetensorsHeader(join(dir, f));
      total += h.parameters;
      for (const [d, n] of Object.entries(h.byDtype)) byDtype[d] = (byDtype[d] ?? 0) + n;
    }
    parameters = total;
    parametersFrom = "safetensors";
    dtype = Object.entries(byDtype).sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  } else {
    parameters = estimateParametersFromConfig(config);
    parametersFrom = parameters === null ? null : "config";
    dtype = typeof config.torch_dtype === "string" ? config.torch_dtype : null;
  }
  const tokConfig = readJson(join(dir, "tokenizer_config.json"), "tokenizer_config.json") ?? {};
  const specialMap = readJson(join(dir, "special_tokens_map.json"), "special_tokens_map.json") ?? {};
  let chatTemplate: string | null = null;
  const ct = tokConfig.chat_template;
  if (typeof ct === "string") chatTemplate = ct;
  else if (Array.isArray(ct))
    chatTemplate =
      (ct as { name?: string; template?: string }[]).find((t) => t.name === "default")?.template ??
      (ct as { template?: string }[])[0]?.template ??
      null;
  if (!chatTemplate && existsSync(join(dir, "chat_template.jinja")))
    chatTemplate = readFileSync(join(dir, "chat_template.jinja"), "utf8");
  const pick = (k: string) => tokenText(tokConfig[k]) ?? tokenText(specialMap[k]);
  const added = Object.values((tokConfig.added_tokens_decoder as Record<string, Json> | undefined) ?? {})
    .filter((t) => t?.special === true && typeof t.content === "string")
    .map((t) => t.content as string);
  const text = (config.text_config as Json | undefined) ?? config;
  const bytes = files.reduce((s, f) => s + statSync(join(dir, f)).size, 0);
  return {
    architecture: String(config.model_type ?? text.model_type ?? "unknown"),
    className: Array.isArray(config.architectures) ? String(config.architectures[0]) : null,
    parameters,
    parametersFrom,
    dtype: dtype
      ? dtype.toUpperCase().replace("BFLOAT16", "BF16").replace("FLOAT32", "F32").replace("FLOAT16", "F16")
      : null,
    contextLength: contextLengthOf(config),
    vocabSize: num(text.vocab_size),
    hiddenSize: num(text.hidden_size),
    layers: num(text.num_hidden_layers),
    chatTemplate,
    specialTokens: {
      bos: pick("bos_token"),
      eos: pick("eos_token"),
      pad: pick("pad_token"),
      unk: pick("unk_token"),
      added: added.slice(0, 64),
    },
    hasTokenizer: files.includes("tokenizer.json") || files.includes("tokenizer.model"),
    weightFiles,
    bytes,
  };
}

/** Model types the CPU engine (packages/engine-local) implements. */
export const CPU_ENGINE_ARCHITECTURES = ["llama", "qwen2", "qwen3"] as const;
/** Largest model the CPU engine trains in reasonable time and memory (fp32 weights + LoRA). */
export const CPU_ENGINE_MAX_PARAMETERS = 1_000_000_000;

/**
 * Which engines can train a model, with the reason for each one that cannot. The CPU engine:
 * the Llama family it implements (SmolLM is Llama-shaped), of a size that fits; the GPU engine:
 * what transformers' AutoModelForCausalLM loads (a *ForCausalLM / *ForConditionalGeneration class).
 */
export function trainableEngines(facts: Pick<ModelFacts, "architecture" | "className" | "parameters">): {
  engines: ("local" | "hf")[];
  reasons: Record<string, string>;
} {
  const engines: ("local" | "hf")[] = [];
  const reasons: Record<string, string> = {};
  const isCpuArch = (CPU_ENGINE_ARCHITECTURES as readonly string[]).includes(facts.architecture);
  if (!isCpuArch)
    reasons.local = `the CPU engine implements ${CPU_ENGINE_ARCHITECTURES.join(", ")}, not ${facts.architecture}`;
  else if (facts.parameters !== null && facts.parameters > CPU_ENGINE_MAX_PARAMETERS)
    reasons.local = `${(facts.parameters / 1e9).toFixed(1)}B parameters is over the CPU engine's ${CPU_ENGINE_MAX_PARAMETERS / 1e9}B`;
  else engines.push("local");
  if (facts.className && /(ForCausalLM|ForConditionalGeneration|LMHeadModel)$/.test(facts.className))
    engines.push("hf");
  else
    reasons.hf = facts.className
      ? `transformers loads ${facts.className}, which is not a causal language model`
      : "config.json names no architectures class for transformers to load";
  return { engines, reasons };
}
