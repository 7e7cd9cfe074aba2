import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILTIN_TEMPLATES, parseEventLine, renderChat } from "@distillery/core";
import { createTinyModel } from "@distillery/engine-local";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluateModel } from "./evaluate-model.ts";
import { resolveEvaluateCommand } from "./resolve-evaluate-command.ts";

const dir = mkdtempSync(join(tmpdir(), "evals-test-"));
const modelDir = join(dir, "model");
const tasksPath = join(dir, "tasks.jsonl");
const prompt = (q: string) =>
  renderChat(BUILTIN_TEMPLATES.phi3, [{ role: "user", content: q }], { addGenerationPrompt: true });
const tasks = Array.from({ length: 6 }, (_, i) => ({
  prompt: prompt(`What is ${i} + ${i}?`),
  reference: String(2 * i),
}));

beforeAll(() => {
  createTinyModel(modelDir, {
    corpus: tasks.map((t) => t.prompt),
    vocabSize: 256,
    hiddenSize: 16,
    numLayers: 1,
    numHeads: 2,
    maxPositions: 64,
    seed: 3,
  });
  writeFileSync(tasksPath, tasks.map((t) => JSON.stringify(t)).join("\n"));
});

describe("evaluateModel", () => {
  it("answers every task k times and scores the answers", async () => {
    const progress: number[] = [];
    const r = await evaluateModel({
      modelDir,
      tasks,
      maxNewTokens: 6,
      temperature: 1,
      k: 2,
      threads: 1,
      onProgress: (d) => progress.push(d),
    });
    expect(r.outputs).toHaveLength(6);
    expect(r.outputs.every((o) => o.outputs.length === 2 && o.scores.length === 2)).toBe(true);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.metrics).toMatchObject({ n: 6, k: 2 });
    expect(r.metrics.accuracy).toBeGreaterThanOrEqual(0);
    expect(r.metrics.mean_reasoning_tokens).toBe(0);
  });

  it("gives the same outputs on worker threads as on one thread", async () => {
    const opts = { modelDir, tasks, maxNewTokens: 5, temperature: 1, k: 2, seed: 9 };
    const one = await evaluateModel({ ...opts, threads: 1 });
    const two = await evaluateModel({ ...opts, threads: 2 });
    expect(two.outputs.map((o) => o.outputs)).toEqual(one.outputs.map((o) => o.outputs));
    expect(two.metrics.accuracy).toBe(one.metrics.accuracy);
  });
});

describe("evaluate CLI", () => {
  const run = (args: string[]) => {
    const cmd = resolveEvaluateCommand();
    return spawnSync(cmd.command, [...cmd.args, ...args], { encoding: "utf8" });
  };

  it("prints progress, then one eval event with the metrics, seq from --start-seq", () => {
    const r = run([
      "--model",
      modelDir,
      "--tasks",
      tasksPath,
      "--run-id",
      "run-1",
      "--name",
      "before",
      "--start-seq",
      "40",
      "--max-new-tokens",
      "4",
    ]);
    expect(r.status).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => {
        const p = parseEventLine(l);
        if (!p.ok) throw new Error(p.error);
        return p.event;
      });
    expect(events[0]).toMatchObject({ type: "status", phase: "evaluating", seq: 40, runId: "run-1" });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => 40 + i));
    const last = events[events.length - 1];
    expect(last?.type).toBe("eval");
    if (last?.type !== "eval") return;
    expect(last.name).toBe("before");
    expect(last.metrics.n).toBe(6);
    expect(last.metrics).toHaveProperty("accuracy");
    expect(last.metrics).toHaveProperty("format_compliance");
    expect(last.metrics).toHaveProperty("mean_reasoning_tokens");
  });

  it("reports a missing tasks file as an error event and exits 1", () => {
    const r = run([
      "--model",
      modelDir,
      "--tasks",
      join(dir, "nope.jsonl"),
      "--run-id",
      "run-1",
      "--name",
      "after",
    ]);
    expect(r.status).toBe(1);
    const last = parseEventLine(r.stdout.trim().split("\n").at(-1) ?? "");
    expect(last.ok && last.event.type === "error" && last.event.message).toMatch(/nope\.jsonl/);
  });

  it("refuses bad usage with exit 2 and prints no events", () => {
    const r = run(["--model", modelDir, "--run-id", "x", "--name", "after"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/--tasks is required/);
    expect(
      run(["--model", modelDir, "--tasks", tasksPath, "--run-id", "x", "--name", "a", "--k", "0"]).status,
    ).toBe(2);
  });
});
