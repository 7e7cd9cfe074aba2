import { pythonPathWith } from "./python-source.ts";

export type HfCommand = { command: string; args: string[]; env: Record<string, string> };

export type BuildHfCommandOptions = {
  /** GPUs this run gets; more than one launches one process per GPU through accelerate */
  gpus: number;
  /** the interpreter (detectHfEngine's `python`); default "python3" */
  python?: string;
  /** PYTHONPATH already in the worker's environment, kept after ours */
  pythonPath?: string;
};

/**
 * The command line that trains one run, for spawn() without a shell. One GPU (or none) runs the
 * module directly; several run `python -m accelerate.commands.launch` (the same interpreter, so
 * no separate `accelerate` script has to be on the PATH), one process per GPU. Only rank 0
 * prints events. `env` holds only what must be added to the worker's environment; which GPUs
 * the run sees (CUDA_VISIBLE_DEVICES) is the worker's to set. Mixed precision comes from the run
 * config through TrainingArguments, not from the launcher.
 */
export function buildHfCommand(jobPath: string, opts: BuildHfCommandOptions): HfCommand {
  if (!Number.isInteger(opts.gpus) || opts.gpus < 0) {
    throw new RangeError(`gpus must be a non-negative integer, got ${opts.gpus}`);
  }
  const python = opts.python ?? "python3";
  const env: Record<string, string> = {
    PYTHONPATH: pythonPathWith(opts.pythonPath),
    PYTHONUNBUFFERED: "1",
    // Tokenizers' thread pool plus the dataloader fork otherwise warns on every run.
    TOKENIZERS_PARALLELISM: "false",
  };
  const train = ["-m", "distillery_trainer", "train", "--config", jobPath];
  if (opts.gpus <= 1) {
    return { command: python, args: train, env };
  }
  const args = [
    "-m",
    "accelerate.commands.launch",
    "--multi_gpu",
    "--num_processes",
    String(opts.gpus),
    "--num_machines",
    "1",
    "--dynamo_backend",
    "no",
    "-m",
    "distillery_trainer",
    "train",
    "--config",
    jobPath,
  ];
  return { command: python, args, env };
}
