export * from "./execute-generation-job.ts";
export * from "./load-generation-prompts.ts";
export * from "./write-generation-version.ts";
