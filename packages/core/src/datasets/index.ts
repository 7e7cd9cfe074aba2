export * from "./canonical-example.ts";
export * from "./column-path.ts";
export * from "./dataset-mapping.ts";
export * from "./detect-shape.ts";
export * from "./map-row.ts";
export * from "./split-reasoning.ts";
