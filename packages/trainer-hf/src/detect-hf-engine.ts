import { execFile } from "node:child_process";
import { z } from "zod";
import { pythonPathWith } from "./python-source.ts";

export type HfGpu = { name: string; memoryMb: number };

export type HfEngineReport = {
  available: boolean;
  reason?: string;
  python?: string;
  gpus: HfGpu[];
  versions: Record<string, string>;
};

/** What `python -m distillery_trainer check` prints (a superset is fine: extra keys pass). */
const ZCheckOutput = z.object({
  available: z.boolean(),
  reason: z.string().optional(),
  python: z.string().optional(),
  gpus: z.array(z.object({ name: z.string(), memoryMb: z.number() })).default([]),
  versions: z.record(z.string(), z.string()).default({}),
});

export type DetectHfEngineOptions = {
  /** the interpreter to probe; default "python3" from the PATH */
  python?: string;
  /** environment of the probe; default process.env of the caller (the worker's parsed env) */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
};

/**
 * Whether this machine can run the `hf` engine: a Python with torch + transformers + peft and
 * at least one CUDA GPU. Never throws: anything that goes wrong is `available: false` + reason.
 */
export async function detectHfEngine(options: DetectHfEngineOptions = {}): Promise<HfEngineReport> {
  const python = options.python ?? "python3";
  const env = { ...(options.env ?? process.env) };
  env.PYTHONPATH = pythonPathWith(env.PYTHONPATH);
  const unavailable = (reason: string): HfEngineReport => ({
    available: false,
    reason,
    python,
    gpus: [],
    versions: {},
  });

  let stdout: string;
  try {
    stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        python,
        ["-m", "distillery_trainer", "check"],
        { env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 1 << 20, shell: false },
        (error, out, err) => {
          if (error) reject(Object.assign(error, { stderrText: String(err).trim() }));
          else resolve(String(out));
        },
      );
    });
  } catch (e) {
    const error = e as NodeJS.ErrnoException & { stderrText?: string };
    if (error.code === "ENOENT") return unavailable(`${python} not found on the PATH`);
    const detail = error.stderrText?.split("\n").slice(-3).join(" ") || error.message;
    return unavailable(`${python} -m distillery_trainer check failed: ${detail}`);
  }

  let raw: unknown;
  try {
    raw = JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
  } catch {
    return unavailable(`distillery_trainer check printed no JSON: ${stdout.slice(0, 200)}`);
  }
  const parsed = ZCheckOutput.safeParse(raw);
  if (!parsed.success) return unavailable(`distillery_trainer check printed an unexpected report`);
  const report = parsed.data;
  return {
    available: report.available,
    ...(report.reason ? { reason: report.reason } : {}),
    python: report.python ?? python,
    gpus: report.gpus,
    versions: report.versions,
  };
}
