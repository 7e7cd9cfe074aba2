import { z } from "zod";
import { teacherHostProblem } from "./teacher-address.ts";

/**
 * A teacher endpoint as the client needs it. `api` says which protocol: "openai" (any
 * OpenAI-compatible `/v1/chat/completions`: DeepSeek's API, vLLM, SGLang, OpenRouter, ollama's
 * compatibility layer) or "ollama" (ollama's native `/api/chat`, whose `think: true` returns the
 * reasoning in `message.thinking`).
 */
export const ZTeacherApi = z.enum(["openai", "ollama"]);
export type TeacherApi = z.infer<typeof ZTeacherApi>;

export const ZBaseUrl = z
  .string()
  .trim()
  .min(1, "enter the endpoint's base URL")
  .max(2000)
  .superRefine((s, ctx) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      u = new URL("invalid:");
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      ctx.addIssue({
        code: "custom",
        message: "the base URL must be an http:// or https:// URL (e.g. http://localhost:11434/v1)",
      });
      return;
    }
    // a key in the URL would end up in messages and logs: it goes in the API key field
    if (u.username !== "" || u.password !== "") {
      ctx.addIssue({
        code: "custom",
        message: "the base URL must not carry a user or password: put the key in the API key field",
      });
      return;
    }
    const problem = teacherHostProblem(u.hostname);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

export const ZTeacherEndpoint = z.object({
  /** for messages: every error names the teacher */
  name: z.string().trim().min(1).max(100),
  baseUrl: ZBaseUrl,
  api: ZTeacherApi.default("openai"),
  model: z.string().trim().min(1, "enter the model name").max(300),
  /** decrypted, in memory only; never logged or returned */
  apiKey: z.string().max(1000).optional(),
});
export type TeacherEndpoint = z.infer<typeof ZTeacherEndpoint>;

/** Sampling, with DeepSeek's R1 usage notes as defaults: t=0.6, top-p 0.95, no system prompt. */
export const ZSampling = z.object({
  temperature: z.number().min(0).max(2).default(0.6),
  topP: z.number().gt(0).max(1).default(0.95),
  maxTokens: z.number().int().min(1).max(262_144).default(4096),
  /** appended to every prompt after a blank line, e.g. R1's "put your final answer within \boxed{}" */
  instruction: z.string().max(2000).default(""),
  system: z.string().max(10_000).optional(),
});
export type Sampling = z.infer<typeof ZSampling>;

export const R1_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}.";

/** `base` joined with `path`, keeping the base's own path (".../v1" + "/chat/completions"). */
export function endpointUrl(baseUrl: string, path: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  return `${base}${path.startsWith("/") ? path : `/${path}`}`;
}

/**
 * The base URLs people paste: ".../v1" for OpenAI-compatible servers; ollama's native API lives
 * at the server root, so a trailing "/v1" or "/api" is dropped for it.
 */
export function ollamaRoot(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, "").replace(/\/(v1|api)$/, "");
}
