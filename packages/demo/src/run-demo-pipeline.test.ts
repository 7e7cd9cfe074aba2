import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent } from "@distillery/core";
import { loadTokenizer } from "@distillery/engine-local";
import { describe, expect, it } from "vitest";
import { runDemoPipeline } from "./run-demo-pipeline.ts";

// A few steps of each run: checks the wiring (datasets → runs → adapter → evaluation), not
// the accuracy, which packages/demo/scripts/tune.ts measures.
describe("runDemoPipeline (smoke)", () => {
  it("trains the base and the distilled student a few steps each and evaluates both", async () => {
    const dir = mkdtempSync(join(tmpdir(), "demo-smoke-"));
    const losses: Record<string, number[]> = { base: [], distill: [] };
    const r = await runDemoPipeline(dir, {
      seed: 3,
      trainSize: 64,
      heldoutSize: 6,
      baseSteps: 6,
      distillSteps: 6,
      onEvent: (run, e: EngineEvent) => {
        if (e.type === "metric" && e.values.loss !== undefined) losses[run]?.push(e.values.loss);
      },
    });
    expect(r.heldout).toBe(6);
    for (const run of ["base", "distill"]) {
      const l = losses[run] ?? [];
      expect(l.length).toBeGreaterThan(1);
      expect(l[l.length - 1]).toBeLessThan(l[0] ?? 0);
    }
    expect(existsSync(join(r.dirs.adapter, "adapter_config.json"))).toBe(true);
    expect(loadTokenizer(r.dirs.adapter).tokenToId("<think>")).toBeDefined();
    for (const res of [r.base, r.distilled]) {
      expect(res.metrics.n).toBe(6);
      expect(res.outputs).toHaveLength(6);
      expect(res.metrics.accuracy).toBeGreaterThanOrEqual(0);
      expect(res.metrics.accuracy).toBeLessThanOrEqual(1);
    }
    expect(r.base_accuracy).toBe(r.base.metrics.accuracy);
    // the base never learned <think>: it cannot write a think block
    expect(r.base.metrics.format_compliance).toBe(0);
  }, 120_000);
});
