export * from "./blob-row-sink.ts";
export * from "./dataset-uploads.ts";
export * from "./dataset-versions.ts";
export * from "./hub-download.ts";
export * from "./inspect-model-dir.ts";
export * from "./models.ts";
export * from "./teacher-logits.ts";
export * from "./tokenizer-models.ts";
