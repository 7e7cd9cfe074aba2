import { randomBytes } from "node:crypto";
import type { EngineEvent } from "@distillery/core";
import {
  appendRunEvents,
  claimRun,
  createRun,
  type Db,
  finishRun,
  markRunRunning,
  type RunLease,
} from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { createRedisConnection, createRunEventHub, publishRunEvents } from "@distillery/jobs";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRunEventStream, resolveAfterSeq } from "./run-event-stream.ts";
import { ensureTestServices } from "./test-services.ts";

/**
 * Integration: the SSE logic against the real Postgres and Redis (started by `npm test`, or here
 * when this file runs alone). Events travel the worker's path: published at once, persisted in
 * batches a little later, so the live tail runs ahead of Postgres as it does in production.
 */
const prefix = `sse${randomBytes(3).toString("hex")}`;
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
let publisher: Redis;
let subscriber: Redis;
let hub: ReturnType<typeof createRunEventHub>;

beforeAll(async () => {
  stopServices = await ensureTestServices();
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker("w1"));
  publisher = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "worker");
  subscriber = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "subscriber");
  hub = createRunEventHub(subscriber, prefix);
}, 120_000);

afterAll(async () => {
  publisher?.disconnect();
  subscriber?.disconnect();
  await drop?.();
  await stopServices?.();
});

async function startRun(): Promise<RunLease> {
  const run = await createRun(db, { workspaceId, name: "sse", engine: "local", config: {} });
  const lease = await claimRun(db, run.id, "w1");
  if (!lease) throw new Error("claim failed");
  await markRunRunning(db, lease);
  return lease;
}

const metric = (runId: string, seq: number): EngineEvent => ({
  type: "metric",
  runId,
  seq,
  ts: Date.now(),
  step: seq,
  values: { loss: 1 / (seq + 1) },
});

/** The worker's path: publish now, persist after `persistDelayMs`. */
function emitter(lease: RunLease, persistDelayMs: number) {
  const pending: Promise<unknown>[] = [];
  return {
    async emit(events: EngineEvent[]) {
      await publishRunEvents(publisher, events, prefix);
      pending.push(
        new Promise((r) => setTimeout(r, persistDelayMs)).then(() => appendRunEvents(db, lease, events)),
      );
    },
    settled: () => Promise.all(pending),
  };
}

/** Reads SSE messages until `event: end` or the stream closes. */
async function readSse(stream: ReadableStream<Uint8Array>, onEvent?: (e: EngineEvent) => void) {
  const events: EngineEvent[] = [];
  const ids: number[] = [];
  let isEnded = false;
  const decoder = new TextDecoder();
  let text = "";
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let at = text.indexOf("\n\n");
    while (at !== -1) {
      const block = text.slice(0, at);
      text = text.slice(at + 2);
      const fields = Object.fromEntries(
        block
          .split("\n")
          .filter((l) => !l.startsWith(":") && l.includes(":"))
          .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
      );
      if (fields.event === "end") isEnded = true;
      else if (fields.data) {
        const e = JSON.parse(fields.data) as EngineEvent;
        events.push(e);
        ids.push(Number(fields.id));
        onEvent?.(e);
      }
      at = text.indexOf("\n\n");
    }
  }
  return { events, ids, isEnded };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("run event stream (SSE)", () => {
  it("replays after Last-Event-ID, then tails live events with no gap and no duplicate, and ends when the run finishes", async () => {
    const lease = await startRun();
    await appendRunEvents(
      db,
      lease,
      range(0, 49).map((s) => metric(lease.runId, s)),
    );
    const out = emitter(lease, 120);
    const abort = new AbortController();
    const stream = createRunEventStream({
      db,
      hub,
      runId: lease.runId,
      afterSeq: resolveAfterSeq("19", undefined),
      signal: abort.signal,
      statusCheckMs: 200,
    });
    let sawLive = false;
    const reading = readSse(stream, (e) => {
      if (e.seq >= 50) sawLive = true;
    });
    // the live tail starts while the replay may still be running
    for (let s = 50; s < 150; s += 5) {
      await out.emit(range(s, s + 4).map((q) => metric(lease.runId, q)));
      await new Promise((r) => setTimeout(r, 10));
    }
    const done: EngineEvent = { type: "done", runId: lease.runId, seq: 150, ts: Date.now(), step: 150 };
    await out.emit([done]);
    await out.settled();
    await finishRun(db, lease, { status: "succeeded" });
    const { events, ids, isEnded } = await reading;
    expect(sawLive).toBe(true);
    expect(events.map((e) => e.seq)).toEqual(range(20, 150));
    expect(ids).toEqual(range(20, 150));
    expect(isEnded).toBe(true);
    expect(hub.listenerCount()).toBe(0);
  });

  it("fills a hole from Postgres: events published before the subscription but persisted after the replay", async () => {
    const lease = await startRun();
    await appendRunEvents(
      db,
      lease,
      range(0, 9).map((s) => metric(lease.runId, s)),
    );
    // published now (nobody listens yet), persisted only after the stream has replayed
    const slow = emitter(lease, 600);
    await slow.emit(range(10, 19).map((s) => metric(lease.runId, s)));
    const stream = createRunEventStream({ db, hub, runId: lease.runId, afterSeq: -1, statusCheckMs: 200 });
    const reading = readSse(stream);
    await new Promise((r) => setTimeout(r, 200));
    const fast = emitter(lease, 50);
    await fast.emit(range(20, 29).map((s) => metric(lease.runId, s)));
    await Promise.all([slow.settled(), fast.settled()]);
    await finishRun(db, lease, { status: "succeeded" });
    const { events, isEnded } = await reading;
    expect(events.map((e) => e.seq)).toEqual(range(0, 29));
    expect(isEnded).toBe(true);
  });

  it("replays a finished run from the start (or from ?after=) and ends at once", async () => {
    const lease = await startRun();
    await appendRunEvents(
      db,
      lease,
      range(0, 4_999).map((s) => metric(lease.runId, s)),
    );
    await finishRun(db, lease, { status: "succeeded" });
    const all = await readSse(
      createRunEventStream({ db, hub, runId: lease.runId, afterSeq: -1, replayPageSize: 1_000 }),
    );
    expect(all.events.map((e) => e.seq)).toEqual(range(0, 4_999));
    expect(all.isEnded).toBe(true);
    const tail = await readSse(
      createRunEventStream({ db, hub, runId: lease.runId, afterSeq: resolveAfterSeq(null, 4_990) }),
    );
    expect(tail.events.map((e) => e.seq)).toEqual(range(4_991, 4_999));
  });

  it("stops cleanly when the client goes away", async () => {
    const lease = await startRun();
    const abort = new AbortController();
    const stream = createRunEventStream({ db, hub, runId: lease.runId, afterSeq: -1, signal: abort.signal });
    const reading = readSse(stream);
    await expect.poll(() => hub.listenerCount()).toBe(1);
    abort.abort();
    const { events, isEnded } = await reading;
    expect(events).toEqual([]);
    expect(isEnded).toBe(false);
    expect(hub.listenerCount()).toBe(0);
  });
});

describe("resolveAfterSeq", () => {
  it("prefers Last-Event-ID over ?after=, and starts from the beginning without either", () => {
    expect(resolveAfterSeq("41", 7)).toBe(41);
    expect(resolveAfterSeq(null, 7)).toBe(7);
    expect(resolveAfterSeq("garbage", undefined)).toBe(-1);
  });
});
