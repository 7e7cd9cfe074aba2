/**
 * @distillery/engine-local — server-only CPU training engine. See README.md for the CLI and API.
 */
export { type CreateTinyModelOptions, createTinyModel } from "./create-tiny-model.ts";
export { EngineError } from "./engine-error.ts";
export { exportOnnx, writeOnnxFile } from "./export/export-onnx.ts";
export {
  createOrtSession,
  defaultPositionIds,
  type OrtCausalLm,
  type OrtForwardInput,
  type OrtForwardOutput,
  type OrtPast,
} from "./export/ort-session.ts";
export { createDecodeSession, type DecodeSession } from "./generate/decode-session.ts";
export { type GenerateOptions, generateTokens } from "./generate/generate-tokens.ts";
export { type GenerateTextOptions, generateText } from "./generate-text.ts";
export { loadModelDir, saveModelDir } from "./io/hf-model-dir.ts";
export { loadAdapterDir, saveAdapterDir } from "./io/peft-adapter.ts";
export { resolveThreads, setMatmulThreads } from "./kernels/parallel.ts";
export { mergeAdapter } from "./merge-adapter.ts";
export type { LlamaModel } from "./model/llama-model.ts";
export type { LlamaConfig } from "./model/model-config.ts";
export { resolveEngineCommand } from "./resolve-engine-command.ts";
export { trainBpeTokenizer } from "./tokenizer/bpe-trainer.ts";
export { type EngineTokenizer, loadTokenizer } from "./tokenizer/engine-tokenizer.ts";
export { writeCheckpointModel } from "./train/checkpoint-model.ts";
export {
  createEndpointTeacher,
  type EndpointTeacher,
  readTeacherKey,
} from "./train/distillation-endpoint.ts";
export { type RunTrainingOptions, type RunTrainingResult, runTraining } from "./train/run-training.ts";
export {
  computeTeacherLogits,
  estimateTeacherLogits,
  type TeacherLogitsEstimate,
  type TeacherLogitsManifest,
  topKRow,
} from "./train/teacher-logits.ts";
export {
  computeTeacherLogitsFromEndpoint,
  type EndpointTeacherLogitsOptions,
  estimateTeacherLogitsFromEndpoint,
} from "./train/teacher-logits-endpoint.ts";
