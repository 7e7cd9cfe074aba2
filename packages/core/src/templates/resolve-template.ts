import { z } from "zod";
import { BUILTIN_TEMPLATES, type ChatTemplateSpec } from "./builtin-templates.ts";

/** A token in tokenizer_config.json is either a string or an AddedToken object. */
const ZTokenField = z
  .union([z.string(), z.object({ content: z.string() }).passthrough(), z.null()])
  .optional()
  .transform((t) => (t === undefined || t === null ? null : typeof t === "string" ? t : t.content));

/** The fields of a model's tokenizer_config.json that rendering needs. */
export const ZTokenizerConfig = z
  .object({
    chat_template: z
      .union([z.string(), z.array(z.object({ name: z.string(), template: z.string() }))])
      .optional(),
    bos_token: ZTokenField,
    eos_token: ZTokenField,
    unk_token: ZTokenField,
    pad_token: ZTokenField,
    additional_special_tokens: z
      .array(z.union([z.string(), z.object({ content: z.string() }).passthrough()]))
      .optional()
      .transform((ts) => ts?.map((t) => (typeof t === "string" ? t : t.content))),
    added_tokens_decoder: z
      .record(z.string(), z.object({ content: z.string(), special: z.boolean().optional() }).passthrough())
      .optional(),
  })
  .passthrough();
export type TokenizerConfig = z.input<typeof ZTokenizerConfig>;

/**
 * The template a model ships: its chat_template.jinja when the folder has one (transformers reads
 * that file over the tokenizer_config.json field, and saves templates there since 4.5x), else
 * tokenizer_config.json's `chat_template`; a list of named templates picks "default", as
 * transformers does. Throws with the field name when there is none.
 */
export function getModelTemplate(
  config: unknown,
  modelId = "model",
  chatTemplateFile?: string,
): ChatTemplateSpec {
  const parsed = ZTokenizerConfig.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`tokenizer_config.json of ${modelId}: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  const c = parsed.data;
  const template =
    chatTemplateFile ??
    (Array.isArray(c.chat_template)
      ? c.chat_template.find((t) => t.name === "default")?.template
      : c.chat_template);
  if (!template)
    throw new Error(`tokenizer_config.json of ${modelId} has no chat_template (or no "default" one)`);
  const specials = Object.values(c.added_tokens_decoder ?? {})
    .filter((t) => t.special !== false)
    .map((t) => t.content);
  return {
    id: "model",
    label: `${modelId} (own template)`,
    source: modelId,
    template,
    bosToken: c.bos_token,
    eosToken: c.eos_token ?? "",
    unkToken: c.unk_token,
    padToken: c.pad_token,
    additionalSpecialTokens: c.additional_special_tokens ?? [],
    specialTokens: [...new Set([...specials, "<think>", "</think>"])],
  };
}

/**
 * A run config's `data.template` id to a spec; "model" needs the model's tokenizer_config.json
 * (and its chat_template.jinja, when the folder has one).
 */
export function resolveTemplate(
  id: string,
  tokenizerConfig?: unknown,
  modelId?: string,
  chatTemplateFile?: string,
): ChatTemplateSpec {
  if (id === "model") {
    if (tokenizerConfig === undefined)
      throw new Error('template "model" needs the model\'s tokenizer_config.json');
    return getModelTemplate(tokenizerConfig, modelId, chatTemplateFile);
  }
  const spec = (BUILTIN_TEMPLATES as Record<string, ChatTemplateSpec>)[id];
  if (!spec)
    throw new Error(
      `unknown chat template "${id}"; pick one of ${Object.keys(BUILTIN_TEMPLATES).join(", ")}, model`,
    );
  return spec;
}
