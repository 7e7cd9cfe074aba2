import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZCanonicalExample, ZRunConfig } from "@distillery/core";
import { readVersionRows } from "@distillery/datasets";
import { loadTokenizer } from "@distillery/engine-local";
import { describe, expect, it } from "vitest";
import { buildDemoPlan } from "./build-demo-plan.ts";
import { COLUMN_FACT_REPEATS } from "./write-demo-datasets.ts";

async function readAll(path: string) {
  const rows = [];
  for await (const r of readVersionRows(path, { validate: true })) rows.push(ZCanonicalExample.parse(r));
  return rows;
}

describe("buildDemoPlan", () => {
  it("writes the three versions, the untrained student, both run configs and the eval tasks", async () => {
    const dir = mkdtempSync(join(tmpdir(), "demo-plan-"));
    const plan = await buildDemoPlan(dir, { seed: 5, trainSize: 100, heldoutSize: 20 });

    const direct = await readAll(plan.datasets.direct.location);
    const traces = await readAll(plan.datasets.traces.location);
    const heldout = await readAll(plan.datasets.heldout.location);
    expect([direct.length, traces.length, heldout.length]).toEqual([
      100 + 200 * COLUMN_FACT_REPEATS,
      100,
      20,
    ]);
    // the base student never sees a think block; the teacher's rows always have one
    expect(direct.every((r) => r.reasoning === null)).toBe(true);
    expect(traces.every((r) => r.reasoning !== null && r.think === "ok")).toBe(true);
    const question = (r: { messages: { content: string }[] }) => r.messages[0]?.content;
    const trainQuestions = new Set(traces.map(question));
    expect(heldout.some((r) => trainQuestions.has(question(r)))).toBe(false);

    expect(plan.heldoutTasks).toHaveLength(20);
    expect(plan.heldoutTasks[0]?.prompt).toMatch(
      /^<\|user\|>\nWhat is \d+ \+ \d+\?<\|end\|>\n<\|assistant\|>\n$/,
    );
    expect(plan.heldoutTasks.map((t) => t.reference)).toEqual(heldout.map((r) => r.reference));

    const tok = loadTokenizer(plan.studentInit.dir);
    expect(tok.tokenToId("<think>")).toBeUndefined();
    // digits are single tokens: the teacher's fixed-width lines stay fixed-width in tokens
    expect(tok.encode("4537+2985", false)).toHaveLength(9);

    expect(ZRunConfig.parse(plan.baseRunConfig)).toEqual(plan.baseRunConfig);
    expect(plan.baseRunConfig.lora.method).toBe("full");
    expect(plan.baseRunConfig.specialTokens).toEqual([]);
    expect(plan.baseRunConfig.data.datasetVersionId).toBe(plan.datasets.direct.id);
    expect(plan.distillRunConfig.lora.method).toBe("lora");
    expect(plan.distillRunConfig.specialTokens).toEqual(["<think>", "</think>"]);
    expect(plan.distillRunConfig.training.completionOnlyLoss).toBe(true);
    expect(plan.distillRunConfig.data.datasetVersionId).toBe(plan.datasets.traces.id);
    expect(plan.distillRunConfig.model.id).toBe("distillery/tiny-arith-student");
    expect(plan.distillRunConfig.evaluation).toMatchObject({
      datasetVersionId: plan.datasets.heldout.id,
      before: true,
      after: true,
    });
  });

  it("is deterministic in its seed", async () => {
    const a = await buildDemoPlan(mkdtempSync(join(tmpdir(), "demo-plan-")), {
      seed: 2,
      trainSize: 30,
      heldoutSize: 10,
    });
    const b = await buildDemoPlan(mkdtempSync(join(tmpdir(), "demo-plan-")), {
      seed: 2,
      trainSize: 30,
      heldoutSize: 10,
    });
    expect(b.problems).toEqual(a.problems);
    expect(b.heldoutTasks).toEqual(a.heldoutTasks);
  });
});
