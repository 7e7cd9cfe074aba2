#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { EngineError } from "./engine-error.ts";
import { exportOnnx } from "./export/export-onnx.ts";
import { generateText } from "./generate-text.ts";
import { setMatmulKernel } from "./kernels/matmul.ts";
import { resolveThreads } from "./kernels/parallel.ts";
import { mergeAdapter } from "./merge-adapter.ts";
import { runTraining } from "./train/run-training.ts";
import { computeTeacherLogits, estimateTeacherLogits } from "./train/teacher-logits.ts";

/**
 * The engine as a command (see README): `train` speaks the event protocol on stdout, one JSON
 * object per line, and exits non-zero after an error event. Other commands print JSON results.
 */
const USAGE = `usage:
  engine train --config <job.json> --out <dir> [--threads auto|1|2]
  engine generate --model <dir> --prompt <text> [--adapter <dir>] [--max-new-tokens N] [--temperature T] [--top-p P] [--seed S]
  engine merge --base <dir> --adapter <dir> --out <dir>
  engine export-onnx --model <dir> --out <file.onnx>
  engine teacher-logits --model <teacher dir> --data <examples.jsonl> --out <dir> [--k 20] [--max-seq-length N] [--all-positions] [--estimate]`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: "string" },
      out: { type: "string" },
      model: { type: "string" },
      prompt: { type: "string" },
      adapter: { type: "string" },
      base: { type: "string" },
      "max-new-tokens": { type: "string" },
      temperature: { type: "string" },
      "top-p": { type: "string" },
      seed: { type: "string" },
      threads: { type: "string" },
      data: { type: "string" },
      k: { type: "string" },
      "max-seq-length": { type: "string" },
      "all-positions": { type: "boolean" },
      estimate: { type: "boolean" },
    },
  });
  const need = (name: keyof typeof values): string => {
    const v = values[name];
    if (typeof v !== "string" || !v) throw new EngineError("usage", `--${name} is required\n${USAGE}`);
    return v;
  };
  // DISTILLERY_ENGINE_KERNEL=auto|native|native-avx512|native-avx2|native-neon|native-scalar|wasm:
  // which kernels run float32 products (default auto: the best native SIMD kernel when built and
  // the CPU has AVX-512, AVX2+FMA or NEON, else WebAssembly)
  const kernel = process.env.DISTILLERY_ENGINE_KERNEL;
  if (kernel) {
    try {
      setMatmulKernel(kernel);
    } catch (e) {
      throw new EngineError("usage", `DISTILLERY_ENGINE_KERNEL: ${(e as Error).message}`);
    }
  }
  switch (command) {
    case "train": {
      const path = need("config");
      let job: Record<string, unknown>;
      try {
        job = JSON.parse(readFileSync(path, "utf8"));
      } catch (e) {
        throw new EngineError("config_invalid", `${path}: ${(e as Error).message}`);
      }
      if (values.out) job = { ...job, paths: { ...(job.paths as object), outDir: values.out } };
      const controller = new AbortController();
      process.once("SIGTERM", () => controller.abort());
      process.once("SIGINT", () => controller.abort());
      let threads: number;
      // the CLI is the engine's entry point: the one place that reads its environment
      const source = values.threads !== undefined ? "--threads" : "DISTILLERY_ENGINE_THREADS";
      try {
        threads = resolveThreads(values.threads ?? process.env.DISTILLERY_ENGINE_THREADS);
      } catch (e) {
        throw new EngineError("usage", `${source}: ${(e as Error).message}`);
      }
      try {
        await runTraining(job, {
          emit: (e) => process.stdout.write(`${JSON.stringify(e)}\n`),
          signal: controller.signal,
          threads,
        });
        return 0;
      } catch {
        return 1; // the error event is already on stdout
      }
    }
    case "generate": {
      const num = (k: "max-new-tokens" | "temperature" | "top-p" | "seed") =>
        values[k] === undefined ? undefined : Number(values[k]);
      const res = generateText(need("model"), need("prompt"), {
        ...(values.adapter ? { adapterDir: values.adapter } : {}),
        maxNewTokens: num("max-new-tokens") ?? 64,
        temperature: num("temperature") ?? 0,
        topP: num("top-p") ?? 1,
        seed: num("seed") ?? 0,
      });
      process.stdout.write(`${JSON.stringify(res)}\n`);
      return 0;
    }
    case "merge":
      mergeAdapter(need("base"), need("adapter"), need("out"));
      process.stdout.write(`${JSON.stringify({ merged: values.out })}\n`);
      return 0;
    case "export-onnx": {
      const res = await exportOnnx(need("model"), need("out"));
      process.stdout.write(`${JSON.stringify(res)}\n`);
      return 0;
    }
    case "teacher-logits": {
      // the estimate (size exact, time from one timed batch) comes first; --estimate stops there
      const opts = {
        k: values.k ? Number(values.k) : 20,
        maxSeqLength: values["max-seq-length"] ? Number(values["max-seq-length"]) : 2048,
        completionOnly: !values["all-positions"],
      };
      const teacher = need("model");
      const data = need("data");
      process.stdout.write(`${JSON.stringify({ estimate: estimateTeacherLogits(teacher, data, opts) })}\n`);
      if (values.estimate) return 0;
      // one {"progress"} line per batch, for the worker's live view
      const manifest = computeTeacherLogits(teacher, data, need("out"), {
        ...opts,
        onProgress: (rowsDone, rows) =>
          process.stdout.write(`${JSON.stringify({ progress: { rowsDone, rows } })}\n`),
      });
      process.stdout.write(`${JSON.stringify({ manifest })}\n`);
      return 0;
    }
    default:
      throw new EngineError("usage", USAGE);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    const err = e instanceof EngineError ? e : new EngineError("internal", String((e as Error)?.stack ?? e));
    process.stderr.write(`${err.code}: ${err.message}\n`);
    process.exitCode = err.code === "usage" ? 2 : 1;
  },
);
