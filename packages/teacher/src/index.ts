/**
 * @distillery/teacher — server-only: teacher endpoints (OpenAI-compatible and ollama), the one
 * reasoning normaliser, retries and rate limits, secrets, verification and the generation loop.
 */

export * from "./generation/generation-config.ts";
export * from "./generation/parse-prompt-file.ts";
export * from "./generation/run-generation.ts";
export * from "./list-models.ts";
export * from "./normalize-completion.ts";
export * from "./rate-limiter.ts";
export * from "./request-completion.ts";
export * from "./retry-policy.ts";
export * from "./secret-box.ts";
export * from "./teacher-endpoint.ts";
export * from "./teacher-error.ts";
export * from "./test-teacher-connection.ts";
export * from "./verify-completion.ts";
export * from "./endpoint-tokenizer.ts";
export * from "./prompt-logprobs.ts";
