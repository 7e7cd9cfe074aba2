import type { BlobStore } from "@distillery/storage";
import { buildHfCommand } from "@distillery/trainer-hf";
import type { EngineLauncher } from "./engine-launcher.ts";
import { buildSteps, type EvaluateCommandResolver } from "./local-launcher.ts";
import { prepareJobFiles } from "./prepare-job-files.ts";

/** GPU runs: packages/trainer-hf (transformers + peft), through accelerate when gpus > 1. */
export function createHfLauncher(deps: {
  store: BlobStore;
  cacheDir: string;
  python?: string;
  gpuCount: number;
  evaluate?: EvaluateCommandResolver;
  /** opens endpoint teachers' sealed keys */
  secretKey?: Buffer;
}): EngineLauncher {
  return {
    engine: "hf",
    async prepare({ db, run, runDir, startSeq }) {
      const files = await prepareJobFiles({
        db,
        store: deps.store,
        cacheDir: deps.cacheDir,
        run,
        runDir,
        startSeq,
        allowHubId: true,
        ...(deps.secretKey ? { secretKey: deps.secretKey } : {}),
      });
      const gpus = Math.min(Math.max(files.job.config.resources.gpus, 1), Math.max(deps.gpuCount, 1));
      const command = buildHfCommand(files.jobPath, { gpus, python: deps.python });
      // an endpoint teacher's key: in the trainer's environment only, never in argv or job.json
      const train = files.teacherApiKey
        ? { ...command, env: { ...command.env, DISTILLERY_TEACHER_API_KEY: files.teacherApiKey } }
        : command;
      return { steps: await buildSteps(db, files, train, deps.evaluate) };
    },
  };
}
