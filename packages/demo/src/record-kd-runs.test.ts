import { ZRunConfig } from "@distillery/core";
import type { Db } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HELDOUT_ACCURACY_METRIC, recordKdRuns } from "./record-kd-runs.ts";

let db: Db;
let drop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase(testAdminDatabaseUrl()));
}, 120_000);
afterAll(async () => {
  await db?.$disconnect();
  await drop?.();
});

const config = (mode: "sft" | "logit") =>
  ZRunConfig.parse({
    model: { id: "distillery/tiny-arith-student" },
    data: { datasetVersionId: "demo-arith-traces" },
    distillation: mode === "sft" ? { mode } : { mode, teacher: { modelId: "demo-teacher" }, temperature: 4 },
  });

/** metric events as a chunked engine run emits them: the seq restarts at each resume */
const metric = (seq: number, step: number, values: Record<string, number>) => ({
  type: "metric" as const,
  runId: "kd-student",
  seq,
  ts: 1_700_000_000_000 + step,
  step,
  values,
});

describe("demo:kd --studio", () => {
  it("records each student run as a succeeded studio run with its metrics and a held-out accuracy series", async () => {
    const curve = (a: number) => ({
      points: [
        { step: 2, accuracy: a },
        { step: 4, accuracy: a + 0.5 },
      ],
      steps_to_90: null,
      final_accuracy: a + 0.5,
      last_metrics: {},
      wall_s: 3,
    });
    const ids = await recordKdRuns(
      db,
      [
        {
          mode: "sft",
          config: config("sft"),
          curve: { ...curve(0.1), config: config("sft") },
          metrics: [metric(0, 2, { loss: 2 }), metric(0, 4, { loss: 1.5 })],
        },
        {
          mode: "logit",
          config: config("logit"),
          curve: { ...curve(0.3), config: config("logit") },
          metrics: [
            metric(0, 2, { loss: 1, kd_loss: 0.8, ce_loss: 2, top1_agreement: 0.4 }),
            metric(0, 4, { loss: 0.7, kd_loss: 0.5, ce_loss: 1.6, top1_agreement: 0.6 }),
          ],
        },
      ],
      { label: "test" },
    );
    expect(ids).toHaveLength(2);
    const runs = await db.run.findMany({ where: { id: { in: ids } }, orderBy: { name: "asc" } });
    expect(runs.map((r) => [r.name, r.status, r.lastSeq])).toEqual([
      ["demo:kd logit · test", "succeeded", 3],
      ["demo:kd sft · test", "succeeded", 3],
    ]);
    const logitRun = runs[0] as (typeof runs)[number];
    expect((logitRun.config as { distillation: { mode: string } }).distillation.mode).toBe("logit");
    // the rows the studio's metric query reads (type metric, data->'values', seq ≤ lastSeq)
    const rows = await db.$queryRaw<{ seq: number; step: number; values: Record<string, number> }[]>`
      SELECT seq, step, data->'values' AS "values" FROM "RunEvent"
      WHERE "runId" = ${logitRun.id} AND type = 'metric' ORDER BY seq`;
    expect(rows.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(rows.filter((r) => HELDOUT_ACCURACY_METRIC in r.values).map((r) => [r.step, r.values])).toEqual([
      [2, { heldout_accuracy: 0.3 }],
      [4, { heldout_accuracy: 0.8 }],
    ]);
    expect(rows[1]?.values).toMatchObject({ kd_loss: 0.5, ce_loss: 1.6, top1_agreement: 0.6 });
  }, 60_000);
});
