export * from "./events.ts";
export * from "./run-config.ts";
export * from "./datasets/index.ts";
export * from "./templates/index.ts";
export * from "./presets.ts";
export * from "./eval/index.ts";
