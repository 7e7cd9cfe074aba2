export * from "./events.ts";
export * from "./run-config.ts";
