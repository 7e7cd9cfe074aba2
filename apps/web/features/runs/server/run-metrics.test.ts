import type { EngineEvent } from "@distillery/core";
import {
  appendRunEvents,
  claimRun,
  createRun,
  type Db,
  finishRun,
  markRunRunning,
  releaseRun,
} from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRunMetrics } from "./run-metrics.ts";
import { ensureTestServices } from "./test-services.ts";

let stopServices: () => Promise<void> = async () => {};
let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;

beforeAll(async () => {
  stopServices = await ensureTestServices();
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker("w1"));
}, 120_000);
afterAll(async () => {
  await drop?.();
  await stopServices();
});

const metric = (runId: string, seq: number, step: number, values: Record<string, number>): EngineEvent => ({
  type: "metric",
  runId,
  seq,
  ts: seq,
  step,
  values,
});

describe("queryRunMetrics", () => {
  it("serves a resumed run's series with one point per step (latest seq wins) and downsamples long series", async () => {
    const run = await createRun(db, { workspaceId, name: "m", engine: "local", config: {} });
    const first = await claimRun(db, run.id, "w1");
    if (!first) throw new Error("claim");
    await markRunRunning(db, first);
    // attempt 1: steps 1..3000, then it is released (as after a kill -9) after a checkpoint at 2000
    await appendRunEvents(
      db,
      first,
      Array.from({ length: 3000 }, (_, i) => metric(run.id, i, i + 1, { loss: 10 })),
    );
    await appendRunEvents(db, first, [metric(run.id, 3000, 3000, { eval_loss: 9 })]);
    await releaseRun(db, first);
    // attempt 2 resumes from step 2000 and re-emits 2001..5000 with later seqs
    const second = await claimRun(db, run.id, "w1");
    if (!second) throw new Error("claim");
    await markRunRunning(db, second);
    await appendRunEvents(
      db,
      second,
      Array.from({ length: 3000 }, (_, i) => metric(run.id, 3001 + i, 2001 + i, { loss: 5 })),
    );
    await finishRun(db, second, { status: "succeeded" });

    const full = await queryRunMetrics(db, run.id, 100_000);
    expect(full.counts.loss).toBe(5000);
    const steps = full.series.loss?.map((p) => p[0]) ?? [];
    expect(new Set(steps).size).toBe(steps.length);
    expect(full.series.loss?.find((p) => p[0] === 2500)?.[1]).toBe(5);
    expect(full.series.loss?.find((p) => p[0] === 1500)?.[1]).toBe(10);
    expect(full.series.eval_loss).toEqual([[3000, 9]]);
    expect(full.throughSeq).toBe(6000);

    const small = await queryRunMetrics(db, run.id, 500);
    expect(small.series.loss).toHaveLength(500);
    expect(small.counts.loss).toBe(5000);
    expect(small.series.loss?.[499]).toEqual([5000, 5]);
  });

  it("answers an empty series for a run without events", async () => {
    const run = await createRun(db, { workspaceId, name: "empty", engine: "local", config: {} });
    expect(await queryRunMetrics(db, run.id)).toEqual({ series: {}, counts: {}, throughSeq: -1 });
  });
});
