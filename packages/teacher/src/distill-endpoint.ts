/**
 * `@distillery/teacher/distill`: what a distillation engine needs from a teacher endpoint, without
 * the generation loop, the store or the jobs (the CPU engine imports only this).
 */
export * from "./endpoint-tokenizer.ts";
export * from "./prompt-logprobs.ts";
export * from "./rate-limiter.ts";
export * from "./retry-policy.ts";
export * from "./teacher-endpoint.ts";
export * from "./teacher-error.ts";
