import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type EngineEvent, parseEventLine } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { resolveEngineCommand } from "./resolve-engine-command.ts";
import {
  collectEvents,
  createFixtureModel,
  makeJob,
  makeTaskExamples,
  makeTempDir,
} from "./test-fixtures.ts";
import { runTraining } from "./train/run-training.ts";

/** Runs `train` as the worker does; calls onEvent per parsed line; resolves with the exit code. */
function runCli(
  configPath: string,
  outDir: string,
  onEvent: (e: EngineEvent, kill: () => void) => void,
): Promise<number | null> {
  const { command, args } = resolveEngineCommand();
  const child = spawn(command, [...args, "train", "--config", configPath, "--out", outDir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const kill = () => child.kill("SIGKILL");
  createInterface({ input: child.stdout }).on("line", (line) => {
    const parsed = parseEventLine(line);
    if (!parsed.ok) throw new Error(`bad event line: ${line}`);
    onEvent(parsed.event, kill);
  });
  return new Promise((resolve) => child.on("close", (code) => resolve(code)));
}

describe("engine CLI", () => {
  it("train survives kill -9 and resumes to the same weights as a straight run", async () => {
    const base = createFixtureModel();
    const training = {
      maxSteps: 8,
      perDeviceBatchSize: 4,
      gradientAccumulationSteps: 1,
      learningRate: 3e-3,
      loggingSteps: 1,
      evalStrategy: "no",
      saveStrategy: "steps",
      saveSteps: 2,
      seed: 5,
    };
    const job = makeJob(base, { lora: { r: 4, alpha: 8, dropout: 0.1 }, training });
    const configPath = join(makeTempDir("cfg"), "job.json");
    writeFileSync(configPath, JSON.stringify(job));
    const events: EngineEvent[] = [];
    const first = await runCli(configPath, job.paths.outDir, (e, kill) => {
      events.push(e);
      if (e.type === "checkpoint" && e.step >= 4) kill();
    });
    expect(first).not.toBe(0);
    writeFileSync(configPath, JSON.stringify({ ...job, startSeq: events.length }));
    const code = await runCli(configPath, job.paths.outDir, (e) => events.push(e));
    expect(code).toBe(0);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(events[events.length - 1]?.type).toBe("done");

    const straight = makeJob(
      base,
      { lora: { r: 4, alpha: 8, dropout: 0.1 }, training },
      { paths: { ...job.paths, outDir: makeTempDir("straight") } },
    );
    await runTraining(straight, { emit: collectEvents().emit });
    const weights = (dir: string) => readFileSync(join(dir, "adapter", "adapter_model.safetensors"));
    expect(weights(job.paths.outDir).equals(weights(straight.paths.outDir))).toBe(true);
  });

  it("generate prints the continuation as JSON", () => {
    const base = createFixtureModel();
    const { command, args } = resolveEngineCommand();
    const res = spawnSync(
      command,
      [
        ...args,
        "generate",
        "--model",
        base,
        "--prompt",
        makeTaskExamples()[0]!.prompt,
        "--max-new-tokens",
        "5",
      ],
      { encoding: "utf8" },
    );
    expect(res.status).toBe(0);
    const out = JSON.parse(res.stdout) as { text: string; tokenIds: number[] };
    expect(out.tokenIds.length).toBeLessThanOrEqual(5);
  });

  it("a bad command exits 2 with usage", () => {
    const { command, args } = resolveEngineCommand();
    const res = spawnSync(command, [...args, "frobnicate"], { encoding: "utf8" });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/usage:/);
  });
});
