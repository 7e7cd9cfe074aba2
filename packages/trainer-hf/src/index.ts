export { type BuildHfCommandOptions, buildHfCommand, type HfCommand } from "./build-hf-command.ts";
export { type BuildHfServeCommandOptions, buildHfServeCommand } from "./build-hf-serve-command.ts";
export {
  type DetectHfEngineOptions,
  detectHfEngine,
  type HfEngineReport,
  type HfGpu,
} from "./detect-hf-engine.ts";
export { PYTHON_SOURCE_DIR } from "./python-source.ts";
