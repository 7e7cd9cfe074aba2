export * from "./blob-row-sink.ts";
export * from "./dataset-uploads.ts";
export * from "./dataset-versions.ts";
export * from "./models.ts";
