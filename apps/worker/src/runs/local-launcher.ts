import { join } from "node:path";
import type { Db } from "@distillery/db";
import { resolveEngineCommand } from "@distillery/engine-local";
import type { BlobStore } from "@distillery/storage";
import type { EngineLauncher, PreparedRun } from "./engine-launcher.ts";
import { type JobFiles, prepareJobFiles } from "./prepare-job-files.ts";
import type { EngineCommand } from "./spawn-engine.ts";

export type EvaluateCommandResolver = () => { command: string; args: string[] };

/** Has this run already recorded an eval event of that name (a resumed run skips it)? */
async function hasEval(db: Db, runId: string, name: string): Promise<boolean> {
  const rows = await db.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM "RunEvent" WHERE "runId" = ${runId} AND type = 'eval' AND data->>'name' = ${name}`;
  return Number(rows[0]?.n ?? 0) > 0;
}

/** evaluate before → train → evaluate after, as the run's config asks. */
export async function buildSteps(
  db: Db,
  files: JobFiles,
  train: EngineCommand,
  evaluate: EvaluateCommandResolver | undefined,
): Promise<PreparedRun["steps"]> {
  const { job } = files;
  const evaluation = job.config.evaluation;
  const steps: PreparedRun["steps"] = [];
  const evalStep = (name: "before" | "after", modelArgs: string[]) => {
    if (!evaluate || !evaluation || !job.paths.evalTasks) return undefined;
    const base = evaluate();
    const args = [
      ...base.args,
      ...modelArgs,
      "--tasks",
      job.paths.evalTasks,
      "--run-id",
      job.runId,
      "--name",
      name,
      "--max-new-tokens",
      String(evaluation.maxNewTokens),
      "--temperature",
      String(evaluation.temperature),
      "--k",
      String(evaluation.k),
    ];
    return { name: `evaluate ${name}`, command: { command: base.command, args } };
  };
  if (evaluation?.before && !(await hasEval(db, job.runId, "before"))) {
    const s = evalStep("before", ["--model", files.baseModelDir]);
    if (s) steps.push(s);
  }
  steps.push({ name: "train", command: train });
  if (evaluation?.after) {
    const trained =
      job.config.lora.method === "lora"
        ? ["--model", files.baseModelDir, "--adapter", join(job.paths.outDir, "adapter")]
        : ["--model", join(job.paths.outDir, "model")];
    const s = evalStep("after", trained);
    if (s) steps.push(s);
  }
  return steps;
}

/** CPU runs: packages/engine-local's CLI, spawned from source. */
export function createLocalLauncher(deps: {
  store: BlobStore;
  cacheDir: string;
  evaluate?: EvaluateCommandResolver;
  /** opens endpoint teachers' sealed keys */
  secretKey?: Buffer;
}): EngineLauncher {
  return {
    engine: "local",
    async prepare({ db, run, runDir, startSeq }) {
      const files = await prepareJobFiles({
        db,
        store: deps.store,
        cacheDir: deps.cacheDir,
        run,
        runDir,
        startSeq,
        ...(deps.secretKey ? { secretKey: deps.secretKey } : {}),
      });
      const engine = resolveEngineCommand();
      const train: EngineCommand = {
        command: engine.command,
        args: [...engine.args, "train", "--config", files.jobPath, "--out", files.job.paths.outDir],
        // an endpoint teacher's key: in the engine's environment only, never in argv or job.json
        ...(files.teacherApiKey ? { env: { DISTILLERY_TEACHER_API_KEY: files.teacherApiKey } } : {}),
      };
      return { steps: await buildSteps(db, files, train, deps.evaluate) };
    },
  };
}
