import type { EngineEvent } from "@distillery/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "./client.ts";
import { appendRunEvents, listRunEvents } from "./run-events.ts";
import {
  claimRun,
  createRun,
  finishRun,
  heartbeatRun,
  markRunRunning,
  requestCancelRun,
  requeueStaleRuns,
} from "./runs.ts";
import { createTestDatabase } from "./test-database.ts";
import { testAdminDatabaseUrl } from "./test-env.ts";
import { registerWorker } from "./workers.ts";
import { ensureDefaultWorkspace } from "./workspaces.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;

const worker = (id: string) => ({
  id,
  workspaceId,
  host: "test",
  pid: 1,
  cpuCount: 2,
  memoryMb: 1024,
  gpus: [],
  engines: ["local"],
  capabilities: {},
  version: "test",
});

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase(testAdminDatabaseUrl()));
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  for (const id of ["w1", "w2", "w3", "w4"]) await registerWorker(db, worker(id));
});
afterAll(async () => drop());

const newRun = () => createRun(db, { workspaceId, name: "r", engine: "local", config: {} });
const metric = (runId: string, seq: number, step: number): EngineEvent => ({
  type: "metric",
  runId,
  seq,
  ts: Date.now(),
  step,
  values: { loss: 1 / (step + 1) },
});

describe("run lifecycle", () => {
  it("lets exactly one of several racing workers claim a run", async () => {
    for (let round = 0; round < 10; round++) {
      const run = await newRun();
      const leases = await Promise.all(["w1", "w2", "w3", "w4"].map((w) => claimRun(db, run.id, w)));
      const winners = leases.filter((l) => l !== null);
      expect(winners).toHaveLength(1);
      const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
      expect(row.status).toBe("claimed");
      expect(row.claimedById).toBe(winners[0]?.workerId);
      expect(row.attempt).toBe(1);
    }
  });

  it("fences a stale worker out of heartbeats, events and the terminal update", async () => {
    const run = await newRun();
    const stale = await claimRun(db, run.id, "w1");
    expect(stale).not.toBeNull();
    if (!stale) return;
    expect(await markRunRunning(db, stale)).toBe(true);
    expect(await appendRunEvents(db, stale, [metric(run.id, 0, 1)])).toBe(1);
    // w1 stops heartbeating; the reaper re-queues the run and w2 takes it over
    await db.run.update({ where: { id: run.id }, data: { heartbeatAt: new Date(Date.now() - 60_000) } });
    const requeued = await requeueStaleRuns(db, 30_000);
    expect(requeued.map((r) => r.id)).toContain(run.id);
    const afterRequeue = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(afterRequeue.status).toBe("queued");
    expect(afterRequeue.interruptions).toBe(1);
    expect(afterRequeue.interruptedAt).not.toBeNull();
    const fresh = await claimRun(db, run.id, "w2");
    expect(fresh?.attempt).toBe(2);
    if (!fresh) return;
    expect(await heartbeatRun(db, stale)).toEqual({ isLeaseHeld: false, isCancelRequested: false });
    expect(await appendRunEvents(db, stale, [metric(run.id, 1, 2)])).toBeNull();
    expect(await finishRun(db, stale, { status: "succeeded" })).toBe(false);
    expect(await markRunRunning(db, fresh)).toBe(true);
    expect(await finishRun(db, fresh, { status: "succeeded", summary: { loss: 0.1 } })).toBe(true);
    const done = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(done.status).toBe("succeeded");
    expect(done.summary).toEqual({ loss: 0.1 });
    // even the winner cannot finish twice
    expect(await finishRun(db, fresh, { status: "failed" })).toBe(false);
  });

  it("persists events idempotently on (run, seq)", async () => {
    const run = await newRun();
    const lease = await claimRun(db, run.id, "w3");
    if (!lease) throw new Error("claim failed");
    const batch = [0, 1, 2, 3].map((s) => metric(run.id, s, s * 10));
    expect(await appendRunEvents(db, lease, batch)).toBe(4);
    // a replay after a crash, overlapping the first batch
    expect(await appendRunEvents(db, lease, [...batch.slice(2), metric(run.id, 4, 40)])).toBe(1);
    const events = await listRunEvents(db, run.id);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect((await listRunEvents(db, run.id, { afterSeq: 2 })).map((e) => e.seq)).toEqual([3, 4]);
    expect((await db.run.findUniqueOrThrow({ where: { id: run.id } })).lastSeq).toBe(4);
  });

  it("cancels a queued run at once and flags an active one for its worker", async () => {
    const queued = await newRun();
    expect(await requestCancelRun(db, workspaceId, queued.id)).toBe("cancelled");
    expect(await claimRun(db, queued.id, "w1")).toBeNull();

    const active = await newRun();
    const lease = await claimRun(db, active.id, "w1");
    if (!lease) throw new Error("claim failed");
    expect(await requestCancelRun(db, workspaceId, active.id)).toBe("claimed");
    expect(await heartbeatRun(db, lease)).toEqual({ isLeaseHeld: true, isCancelRequested: true });
    expect(await finishRun(db, lease, { status: "cancelled" })).toBe(true);
    expect(await requestCancelRun(db, "another-workspace", active.id)).toBeNull();
  });
});
