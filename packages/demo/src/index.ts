/**
 * @distillery/demo — server-only: the built-in reasoning-distillation demo (README.md).
 */
export * from "./addition-problems.ts";
export * from "./build-demo-plan.ts";
export * from "./demo-examples.ts";
export * from "./demo-run-configs.ts";
export * from "./demo-settings.ts";
export * from "./heldout-tasks.ts";
export * from "./render-version.ts";
export * from "./run-demo-pipeline.ts";
export * from "./teacher-trace.ts";
export * from "./write-demo-datasets.ts";
