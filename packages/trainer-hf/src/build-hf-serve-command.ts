import type { HfCommand } from "./build-hf-command.ts";
import { pythonPathWith } from "./python-source.ts";

export type BuildHfServeCommandOptions = {
  /** model directory (safetensors + tokenizer) */
  modelDir: string;
  /** a PEFT adapter merged into the model (a run's adapter on its base) */
  adapterDir?: string;
  /** the model id clients ask for (the studio's id: a catalog name, `<runId>`, …) */
  servedName: string;
  port: number;
  host?: string;
  /** "auto": vLLM when installed on the worker, else transformers */
  engine?: "auto" | "transformers" | "vllm";
  /** sequences decoded together (transformers) */
  maxBatch?: number;
  /** required as `Authorization: Bearer …`; passed in the environment, never on the command line */
  apiKey?: string;
  python?: string;
  pythonPath?: string;
};

/**
 * The command line of the GPU server for one `hf` model (`python -m distillery_trainer.serve`,
 * OpenAI-compatible /v1 on `host:port`), for spawn() without a shell. The key goes in `env`
 * (DISTILLERY_SERVE_API_KEY) so it never shows in a process list.
 */
export function buildHfServeCommand(opts: BuildHfServeCommandOptions): HfCommand {
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65_535)
    throw new RangeError(`port must be an integer in 0..65535, got ${opts.port}`);
  if (opts.maxBatch !== undefined && (!Number.isInteger(opts.maxBatch) || opts.maxBatch < 1))
    throw new RangeError(`maxBatch must be a positive integer, got ${opts.maxBatch}`);
  const args = [
    "-m",
    "distillery_trainer.serve",
    "--model",
    opts.modelDir,
    "--served-name",
    opts.servedName,
    "--host",
    opts.host ?? "127.0.0.1",
    "--port",
    String(opts.port),
    "--engine",
    opts.engine ?? "auto",
  ];
  if (opts.adapterDir) args.push("--adapter", opts.adapterDir);
  if (opts.maxBatch) args.push("--max-batch", String(opts.maxBatch));
  const env: Record<string, string> = {
    PYTHONPATH: pythonPathWith(opts.pythonPath),
    PYTHONUNBUFFERED: "1",
    TOKENIZERS_PARALLELISM: "false",
  };
  if (opts.apiKey) env.DISTILLERY_SERVE_API_KEY = opts.apiKey;
  return { command: opts.python ?? "python3", args, env };
}
