import { createServer, type Socket } from "node:net";
import type { EngineEvent } from "@distillery/core";
import { Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createRedisConnection } from "./connections.ts";
import { createRunEventHub, publishRunEvents } from "./event-bus.ts";
import { createProducer, QueueUnavailableError } from "./producer.ts";
import { QUEUES } from "./queues.ts";
import { createRedisOutageReporter, retryWhileRedisIsDown } from "./redis-outage.ts";
import { startRestartableRedis } from "./testing/restartable-redis.ts";

let redis: Awaited<ReturnType<typeof startRestartableRedis>>;
beforeAll(async () => {
  redis = await startRestartableRedis();
});
afterAll(() => redis.stop());

const echo = (jobId: string) => ({ jobId, workspaceId: "ws", message: "hi" });

describe("Redis outages", () => {
  it("a producer made while Redis is down refuses the job at once, not after the outage", {
    timeout: 120_000,
  }, async () => {
    await redis.stop();
    const connection = createRedisConnection(redis.url, "producer");
    connection.on("error", () => {});
    const producer = createProducer(connection, "outage-a");
    let isRedisBack = false;
    // before: BullMQ waited for the connection until Redis came back (9.4 s seen)
    const outcome = producer.enqueue(QUEUES.echo, echo("j1")).then(
      () => ({ isRedisBack, error: undefined }),
      (e: Error) => ({ isRedisBack, error: e }),
    );
    const settled = await outcome;
    isRedisBack = true;
    await redis.start();
    expect(settled.isRedisBack).toBe(false);
    expect(settled.error).toBeInstanceOf(QueueUnavailableError);
    // a second copy of the module (as a bundler may load) still recognises it
    const copy = Object.assign(new Error("x"), { name: "QueueUnavailableError" });
    expect(copy instanceof QueueUnavailableError).toBe(true);
    expect(new Error("x") instanceof QueueUnavailableError).toBe(false);
    expect(settled.error?.message).toMatch(/Redis is unreachable/);
    // and it works again once Redis is back
    await expect.poll(() => producer.isAvailable(), { timeout: 20_000 }).toBe(true);
    const job = await producer.enqueue(QUEUES.echo, echo("j2"), { jobId: "j2" });
    expect(job.id).toBe("j2");
    await producer.close();
    connection.disconnect();
  });

  it("a queue whose start met a Redis drop is replaced: the producer works again once Redis is back", {
    timeout: 120_000,
  }, async () => {
    const connection = createRedisConnection(redis.url, "producer");
    connection.on("error", () => {});
    const producer = createProducer(connection, "outage-c");
    await expect.poll(() => connection.status, { timeout: 20_000 }).toBe("ready");
    redis.pause(); // the queue's start (BullMQ asks INFO) is never answered...
    const first = producer.queue(QUEUES.echo);
    await new Promise((r) => setTimeout(r, 300));
    await redis.stop(); // ...and fails when the connection drops
    await expect(first.waitUntilReady()).rejects.toThrow(/max retries|closed/i);
    let attempts = 0;
    const enqueued = retryWhileRedisIsDown(
      () => {
        attempts += 1;
        return producer.enqueue(QUEUES.echo, echo("j3"), { jobId: "j3" });
      },
      { everyMs: 200 },
    );
    await expect.poll(() => attempts, { timeout: 20_000 }).toBeGreaterThan(1);
    await redis.start();
    await expect.poll(() => producer.isAvailable(), { timeout: 20_000 }).toBe(true);
    // before: "Reached the max retries per request limit" from the first queue, for good
    const job = await producer.enqueue(QUEUES.echo, echo("j4"), { jobId: "j4" });
    expect(job.id).toBe("j4");
    expect((await enqueued).id).toBe("j3");
    expect(await producer.queue(QUEUES.echo).getJobCounts("wait")).toEqual({ wait: 2 });
    await producer.close();
    connection.disconnect();
  });

  it("subscribing to a run's live events while Redis is down does not wait for it; events flow once it is back", {
    timeout: 120_000,
  }, async () => {
    const subscriber = createRedisConnection(redis.url, "subscriber");
    const publisher = createRedisConnection(redis.url, "worker");
    for (const c of [subscriber, publisher]) c.on("error", () => {});
    await expect.poll(() => subscriber.status === "ready" && publisher.status === "ready").toBe(true);
    await redis.stop();
    await expect.poll(() => subscriber.status, { timeout: 20_000 }).toBe("reconnecting");
    const hub = createRunEventHub(subscriber, "outage-d");
    const seen: number[] = [];
    const outcome = await Promise.race([
      hub.subscribe("run_x", (e) => seen.push(e.seq)).then(() => "subscribed"),
      new Promise((r) => setTimeout(() => r("still waiting"), 3_000)),
    ]);
    // before: it waited for Redis, so an SSE stream opened during an outage sent nothing, not even
    // the replay from PostgreSQL, until Redis was back
    expect(outcome).toBe("subscribed");
    await redis.start();
    let seq = 0;
    const event = (): EngineEvent => ({
      type: "log",
      runId: "run_x",
      seq: seq++,
      ts: 0,
      level: "info",
      message: "m",
    });
    await expect
      .poll(
        async () => {
          await publishRunEvents(publisher, [event()], "outage-d");
          return seen.length;
        },
        { timeout: 20_000 },
      )
      .toBeGreaterThan(0);
    subscriber.disconnect();
    publisher.disconnect();
  });

  it("logs one line when Redis drops and one when it is back, and no stack traces", {
    timeout: 120_000,
  }, async () => {
    const lines: string[] = [];
    const consoleError = vi.spyOn(console, "error");
    const reporter = createRedisOutageReporter(redis.url, (level, m) => lines.push(`${level} ${m}`));
    const connections = [
      reporter.watch(createRedisConnection(redis.url, "producer")),
      reporter.watch(createRedisConnection(redis.url, "worker")),
      reporter.watch(createRedisConnection(redis.url, "subscriber")),
    ];
    const producer = createProducer(connections[0] as never, "outage-b");
    const worker = reporter.quiet(
      new Worker(QUEUES.echo, async () => "ok", { connection: connections[1] as never, prefix: "outage-b" }),
      "echo worker",
    );
    await expect.poll(() => connections.every((c) => c.status === "ready"), { timeout: 20_000 }).toBe(true);
    await worker.waitUntilReady();

    await redis.stop();
    await expect.poll(() => reporter.isDown(), { timeout: 20_000 }).toBe(true);
    // the outage lasts a while: many reconnect attempts per connection
    await expect
      .poll(() => producer.enqueue(QUEUES.echo, echo("x")).catch((e: Error) => e.name))
      .toBe("QueueUnavailableError");
    await new Promise((r) => setTimeout(r, 3_000));
    await redis.start();
    await expect.poll(() => reporter.isDown(), { timeout: 30_000 }).toBe(false);

    expect(lines.filter((l) => /unreachable/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /is back after/.test(l))).toHaveLength(1);
    expect(lines).toHaveLength(2);
    expect(consoleError).not.toHaveBeenCalled();
    consoleError.mockRestore();
    // "back" comes with the first connection; BullMQ's close can wait for ever on one still
    // reconnecting, so the clean-up does not wait on it
    const settle = new Promise((r) => setTimeout(r, 5_000));
    await Promise.race([Promise.all([worker.close(true), producer.close()]), settle]);
    for (const c of connections) c.disconnect();
  });

  it('is not back on a connection\'s "ready" alone: a PING sent after the drop must be answered', {
    timeout: 120_000,
  }, async () => {
    const lines: string[] = [];
    const reporter = createRedisOutageReporter(redis.url, (level, m) => lines.push(`${level} ${m}`));
    const connection = reporter.watch(createRedisConnection(redis.url, "worker"));
    await expect.poll(() => connection.status, { timeout: 20_000 }).toBe("ready");
    await redis.stop();
    await expect.poll(() => reporter.isDown(), { timeout: 20_000 }).toBe(true);
    // on the port meanwhile: something that completes ioredis's handshake and then answers
    // nothing (a hung Redis; or, in the race seen, a connection that finished its handshake
    // just before Redis died and reported "ready" after another connection had failed)
    const sockets = new Set<Socket>();
    const pings = { count: 0 };
    const hung = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      let pending = "";
      socket.on("data", (chunk) => {
        pending += chunk.toString("latin1");
        for (let command = takeCommand(pending); command; command = takeCommand(pending)) {
          pending = pending.slice(command.length);
          if (command.name === "PING") pings.count += 1;
          else socket.write(command.name === "HELLO" ? "-NOPROTO unsupported\r\n" : "-ERR not now\r\n");
        }
      });
    });
    await new Promise<void>((r) => hung.listen(redis.port, "127.0.0.1", r));
    await expect.poll(() => connection.status, { timeout: 20_000 }).toBe("ready");
    await new Promise((r) => setTimeout(r, 2_500));
    // before: "back after 0.3 s" at this "ready" (and a second "unreachable" at the next drop)
    expect(reporter.isDown()).toBe(true);
    expect(lines).toHaveLength(1);
    expect(pings.count).toBeGreaterThan(0);

    for (const socket of sockets) socket.destroy();
    await new Promise((r) => hung.close(r));
    await redis.start();
    await expect.poll(() => reporter.isDown(), { timeout: 30_000 }).toBe(false);
    expect(lines.filter((l) => /unreachable/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /is back after/.test(l))).toHaveLength(1);
    expect(lines).toHaveLength(2);
    connection.disconnect();
  });
});

/** The first whole RESP command (an array of bulk strings) at the start of `buffer`, if any. */
function takeCommand(buffer: string): { name: string; length: number } | undefined {
  const header = /^\*(\d+)\r\n/.exec(buffer);
  if (!header) return undefined;
  let at = header[0].length;
  let name = "";
  for (let i = 0; i < Number(header[1]); i++) {
    const bulk = /^\$(\d+)\r\n/.exec(buffer.slice(at));
    if (!bulk) return undefined;
    const start = at + bulk[0].length;
    const end = start + Number(bulk[1]);
    if (buffer.length < end + 2) return undefined;
    if (i === 0) name = buffer.slice(start, end).toUpperCase();
    at = end + 2;
  }
  return { name, length: at };
}
