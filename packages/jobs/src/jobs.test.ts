import { randomBytes } from "node:crypto";
import type { EngineEvent } from "@distillery/core";
import { Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisConnection, pingRedis } from "./connections.ts";
import { createRunEventHub, forgetPublishedSeq, getPublishedSeq, publishRunEvents } from "./event-bus.ts";
import { ZEchoPayload } from "./payloads.ts";
import { createProducer } from "./producer.ts";
import { QUEUES } from "./queues.ts";

const url = () => {
  const u = process.env.TEST_REDIS_URL;
  if (!u) throw new Error("TEST_REDIS_URL is not set");
  return u;
};
// each test file gets its own key prefix, so files never see each other's jobs
const prefix = `test-${randomBytes(4).toString("hex")}`;
const producerConnection = () => createRedisConnection(url(), "producer");
let producer: ReturnType<typeof createProducer>;
const toClose: { quit(): Promise<unknown> }[] = [];

beforeAll(() => {
  const c = producerConnection();
  toClose.push(c);
  producer = createProducer(c, prefix);
});
afterAll(async () => {
  await producer.close();
  for (const c of toClose) await c.quit();
});

const ev = (runId: string, seq: number): EngineEvent => ({
  type: "log",
  runId,
  seq,
  ts: 0,
  level: "info",
  message: `m${seq}`,
});

describe("jobs", () => {
  it("rejects an invalid payload before it reaches Redis, naming the field", async () => {
    await expect(
      producer.enqueue(QUEUES.echo, { jobId: "", workspaceId: "ws", message: "hi" } as never),
    ).rejects.toThrow(/jobId/);
    const counts = await producer.queue(QUEUES.echo).getJobCounts();
    expect(counts.waiting).toBe(0);
  });

  it("carries an echo job from producer to a real BullMQ worker, parsed on both ends", async () => {
    const workerConnection = createRedisConnection(url(), "worker");
    const seen: unknown[] = [];
    const worker = new Worker(
      QUEUES.echo,
      async (job) => {
        const payload = ZEchoPayload.parse(job.data);
        seen.push(payload);
        return { echoed: payload.message.toUpperCase() };
      },
      { connection: workerConnection, prefix },
    );
    const job = await producer.enqueue(QUEUES.echo, { jobId: "job_1", workspaceId: "ws", message: "hello" });
    const done = await new Promise<unknown>((resolve, reject) => {
      worker.on("completed", (j, result) => j.id === job.id && resolve(result));
      worker.on("failed", (_j, err) => reject(err));
    });
    expect(done).toEqual({ echoed: "HELLO" });
    expect(seen).toEqual([{ jobId: "job_1", workspaceId: "ws", message: "hello", delayMs: 0 }]);
    await worker.close();
    await workerConnection.quit();
  });

  it("fans live run events out to subscribers of that run only", async () => {
    const sub = createRedisConnection(url(), "subscriber");
    const pub = createRedisConnection(url(), "worker");
    toClose.push(sub, pub);
    const hub = createRunEventHub(sub, prefix);
    const a: EngineEvent[] = [];
    const b: EngineEvent[] = [];
    const offA = await hub.subscribe("run_a", (e) => a.push(e));
    await hub.subscribe("run_b", (e) => b.push(e));
    await publishRunEvents(pub, [ev("run_a", 0), ev("run_a", 1), ev("run_b", 0)], prefix);
    await expect.poll(() => a.length).toBe(2);
    await expect.poll(() => b.length).toBe(1);
    expect(a.map((e) => e.seq)).toEqual([0, 1]);
    offA();
    await publishRunEvents(pub, [ev("run_a", 2), ev("run_b", 1)], prefix);
    await expect.poll(() => b.length).toBe(2);
    expect(a).toHaveLength(2);
    expect(hub.listenerCount()).toBe(1);
  });

  it("remembers the highest seq published per run, never lowering it, until forgotten", async () => {
    const pub = createRedisConnection(url(), "worker");
    toClose.push(pub);
    expect(await getPublishedSeq(pub, "run_seq_a", prefix)).toBeNull();
    await publishRunEvents(pub, [ev("run_seq_a", 3), ev("run_seq_a", 7), ev("run_seq_b", 1)], prefix);
    expect(await getPublishedSeq(pub, "run_seq_a", prefix)).toBe(7);
    expect(await getPublishedSeq(pub, "run_seq_b", prefix)).toBe(1);
    // a late, lower publish (a replayed batch) does not move the mark back
    await publishRunEvents(pub, [ev("run_seq_a", 5)], prefix);
    expect(await getPublishedSeq(pub, "run_seq_a", prefix)).toBe(7);
    await forgetPublishedSeq(pub, "run_seq_a", prefix);
    expect(await getPublishedSeq(pub, "run_seq_a", prefix)).toBeNull();
    expect(await getPublishedSeq(pub, "run_seq_b", prefix)).toBe(1);
  });

  it("tells what is wrong with an unreachable Redis", async () => {
    await expect(pingRedis("redis://127.0.0.1:1", 500)).rejects.toThrow(
      /cannot connect to Redis at redis:\/\/127.0.0.1:1.*ECONNREFUSED/,
    );
  });
});
