import { HUB_REPO_ID } from "@distillery/core";
import { z } from "zod";

/** The name a model goes by in this workspace (run forms, the run page). */
export const ZModelName = z.string().trim().min(1, "name the model").max(200);

/** POST /api/models: a Hub download or a folder on a worker registered in place. */
export const ZAddModelRequest = z.object({
  name: ZModelName.optional(),
  source: z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("hub"),
      repoId: z
        .string()
        .trim()
        .regex(HUB_REPO_ID, "a Hub model id reads owner/name, e.g. HuggingFaceTB/SmolLM2-135M"),
      revision: z.string().trim().min(1).max(200).default("main"),
      /** for gated models: travels to the worker in the queue payload, never stored */
      token: z.string().trim().max(500).optional(),
    }),
    z.object({
      kind: z.literal("path"),
      path: z
        .string()
        .trim()
        .min(1, "give the folder's absolute path")
        .max(4096)
        .startsWith("/", "give an absolute path"),
    }),
  ]),
});
export type AddModelRequest = z.input<typeof ZAddModelRequest>;

/** Files a model folder upload accepts: weights as safetensors, configs and tokenizer files. */
export const MODEL_UPLOAD_FILE = /^(?:[\w.-]+\/)*[\w.-]+\.(?:json|safetensors|txt|model|jinja|md)$/;

export function checkModelUploadPath(path: string): string | null {
  if (path.split("/").some((s) => s === ".." || s === "."))
    return `${path}: a file path may not contain . or ..`;
  if (/\.(bin|pt|pth|ckpt|h5|msgpack|gguf|onnx)$/.test(path))
    return `${path}: only safetensors weights are accepted (convert .bin/.pt checkpoints with safetensors first)`;
  if (!MODEL_UPLOAD_FILE.test(path))
    return `${path}: not a model file (config and tokenizer .json, .safetensors shards, merges.txt, tokenizer.model, .jinja)`;
  return null;
}

export const ZCompleteModelUpload = z.object({ name: ZModelName });
