export * from "./datasets/index.ts";
export * from "./distillation-config.ts";
export * from "./eval/index.ts";
export * from "./events.ts";
export * from "./presets.ts";
export * from "./run-config.ts";
export * from "./service-urls.ts";
export * from "./templates/index.ts";
