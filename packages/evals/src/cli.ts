#!/usr/bin/env node
import { parseArgs } from "node:util";
import { createEventStamper, type EngineEventBody } from "@distillery/core";
import { readEvalTasks } from "./eval-task.ts";
import { writeTaskOutputs } from "./write-task-outputs.ts";

/**
 * `evaluate --model <dir> [--adapter <dir>] --tasks <jsonl> --run-id <id> --name before|after
 *  [--start-seq N] [--max-new-tokens 256] [--temperature 0] [--top-p 1] [--k 1] [--seed 0]
 *  [--max-tasks N] [--threads N] [--outputs <jsonl>]`
 * Prints the event protocol on stdout (status/log progress, then one `eval` event whose
 * metrics hold accuracy, pass_at_1, cons_at_k, format_compliance, mean_reasoning_tokens, n …).
 * Exit 0 after the eval event; 1 after an `error` event; 2 on a usage error (nothing printed).
 */
const USAGE =
  "usage: evaluate --model <dir> [--adapter <dir>] --tasks <jsonl> --run-id <id> --name <before|after> [--start-seq N] [--max-new-tokens N] [--temperature T] [--top-p P] [--k K] [--seed S] [--max-tasks N] [--threads N] [--outputs <jsonl>]";

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function toNumber(
  name: string,
  value: string | undefined,
  fallback: number,
  check: (n: number) => boolean,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) fail(`--${name}: ${JSON.stringify(value)} is out of range`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== "evaluate") fail(`unknown command ${JSON.stringify(command ?? "")}`);
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: Object.fromEntries(
        [
          "model",
          "adapter",
          "tasks",
          "run-id",
          "name",
          "start-seq",
          "max-new-tokens",
          "temperature",
          "top-p",
          "k",
          "seed",
          "max-tasks",
          "threads",
          "outputs",
        ].map((o) => [o, { type: "string" }]),
      ) as Record<string, { type: "string" }>,
    }) as { values: Record<string, string | undefined> });
  } catch (e) {
    fail((e as Error).message);
  }
  const model = values.model ?? fail("--model is required");
  const tasksPath = values.tasks ?? fail("--tasks is required");
  const runId = values["run-id"] ?? fail("--run-id is required");
  const name = values.name ?? fail("--name is required");
  const isInt = (n: number) => Number.isInteger(n) && n >= 0;
  const startSeq = toNumber("start-seq", values["start-seq"], 0, isInt);
  const maxNewTokens = toNumber("max-new-tokens", values["max-new-tokens"], 256, (n) => isInt(n) && n >= 1);
  const temperature = toNumber("temperature", values.temperature, 0, (n) => n >= 0 && n <= 2);
  const topP = toNumber("top-p", values["top-p"], 1, (n) => n > 0 && n <= 1);
  const k = toNumber("k", values.k, 1, (n) => isInt(n) && n >= 1 && n <= 64);
  const seed = toNumber("seed", values.seed, 0, isInt);
  const maxTasks = toNumber(
    "max-tasks",
    values["max-tasks"],
    Number.POSITIVE_INFINITY,
    (n) => isInt(n) && n >= 1,
  );
  const threads =
    values.threads === undefined
      ? undefined
      : toNumber("threads", values.threads, 1, (n) => isInt(n) && n >= 1 && n <= 64);

  const stamper = createEventStamper(runId, startSeq);
  const emit = (body: EngineEventBody) => process.stdout.write(`${JSON.stringify(stamper.stamp(body))}\n`);
  try {
    // the engine loads only after the arguments are known good: usage errors stay instant
    const { evaluateModel } = await import("./evaluate-model.ts");
    emit({
      type: "status",
      phase: "evaluating",
      message: `evaluate ${name}: loading ${model}${values.adapter ? ` + ${values.adapter}` : ""}`,
    });
    const tasks = readEvalTasks(tasksPath).slice(0, maxTasks);
    emit({
      type: "log",
      level: "info",
      message: `evaluate ${name}: ${tasks.length} tasks × ${k} sample(s), max ${maxNewTokens} new tokens, temperature ${temperature}`,
    });
    // progress about every 10%: enough for a progress bar, few enough events to store
    const every = Math.max(1, Math.ceil(tasks.length / 10));
    const result = await evaluateModel({
      modelDir: model,
      adapterDir: values.adapter,
      tasks,
      maxNewTokens,
      temperature,
      topP,
      k,
      seed,
      threads,
      onProgress: (done, total) => {
        if (done % every === 0 && done < total)
          emit({ type: "log", level: "info", message: `evaluate ${name}: ${done}/${total} tasks` });
      },
    });
    if (values.outputs) writeTaskOutputs(values.outputs, result.outputs);
    const m = result.metrics;
    emit({
      type: "log",
      level: "info",
      message: `evaluate ${name}: accuracy ${m.accuracy.toFixed(3)} on ${m.n}, format ${m.format_compliance.toFixed(3)}, ${m.wall_s.toFixed(1)} s`,
    });
    const metrics: Record<string, number> = {};
    for (const [key, v] of Object.entries(m))
      if (typeof v === "number" && Number.isFinite(v)) metrics[key] = v;
    emit({ type: "eval", name, metrics });
    return 0;
  } catch (e) {
    emit({
      type: "error",
      message: `evaluate ${name}: ${(e as Error).message || String(e)}`,
      code: "eval_failed",
    });
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
