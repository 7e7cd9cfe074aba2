/**
 * @distillery/inference — server-only serving. Models load on demand into model processes
 * (LRU within a memory budget), each running a continuous batching loop; the OpenAI wire
 * format (chat completions, completions, models) is built on top. See README.md.
 */
export {
  type GenerateEvent,
  type GenerateRequest,
  type ModelBackend,
  startEngineBackend,
} from "./engine/engine-backend.ts";
export { createRng, logprobsOf, type SampleSettings, sampleNext } from "./engine/sample-next.ts";
export {
  type CompletionInput,
  chatInput,
  createCompletion,
  renderChatPrompt,
  streamCompletion,
  textInput,
} from "./openai/create-completion.ts";
export {
  handleChatCompletions,
  handleCompletions,
  handleTokenize,
  modelsResponse,
  toOpenAiErrorResponse,
  type V1Deps,
} from "./openai/handle-v1.ts";
export { OpenAiError, openAiErrorFromZod } from "./openai/openai-error.ts";
export * from "./openai/openai-schemas.ts";
export {
  createModelPool,
  estimateModelBytes,
  type LoadedModel,
  loadChatTemplate,
  type ModelPool,
  type ModelPoolOptions,
  type ModelState,
} from "./pool/model-pool.ts";
export {
  listServableModels,
  materializeBlobDir,
  resolveServableFiles,
  type ServableFiles,
  type ServableModel,
  UnknownModelError,
} from "./pool/servable-models.ts";
export { createReasoningSplitter } from "./text/reasoning-splitter.ts";
export { createStopMatcher } from "./text/stop-matcher.ts";
export {
  createGpuRegistry,
  type GpuLoadRequest,
  type GpuRegistry,
  type GpuServerEntry,
  type GpuServerState,
  type GpuWorkerEntry,
  gpuModelKey,
  type RedisCaller,
} from "./upstream/gpu-registry.ts";
export { createGpuRouting, isGpuServedModel } from "./upstream/gpu-routing.ts";
export {
  createUpstreams,
  parseGpuServers,
  type UpstreamServer,
  type Upstreams,
  type UpstreamsOptions,
} from "./upstream/upstream.ts";
