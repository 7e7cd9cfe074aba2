import type { Db } from "@distillery/db";
import type { EngineCommand } from "./spawn-engine.ts";

/** A reason the run cannot start that the user should read (its dataset or model is gone…). */
export class RunSetupError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "RunSetupError";
  }
}

/** The child processes of a run, run in order (e.g. evaluate before → train → evaluate after). */
export interface PreparedRun {
  steps: { name: string; command: EngineCommand }[];
}

/**
 * Turns a claimed run into an engine command: materialises the base model and the dataset
 * version locally, writes the engine job file, resumes from the run directory's checkpoints.
 */
export interface EngineLauncher {
  engine: "local" | "hf";
  prepare(ctx: {
    db: Db;
    run: {
      id: string;
      workspaceId: string;
      config: unknown;
      modelId: string | null;
      datasetVersionId: string | null;
    };
    runDir: string;
    /** the seq the engine's first event must carry (continues a resumed stream) */
    startSeq: number;
  }): Promise<PreparedRun>;
}
