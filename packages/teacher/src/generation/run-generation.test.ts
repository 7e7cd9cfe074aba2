import { afterEach, describe, expect, it } from "vitest";
import { ZSampling } from "../teacher-endpoint.ts";
import { TeacherError } from "../teacher-error.ts";
import { type FakeTeacher, startFakeTeacher } from "../testing/fake-teacher-server.ts";
import { type GeneratedRow, type GenerationOptions, runGeneration } from "./run-generation.ts";

let server: FakeTeacher | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const prompts = Array.from({ length: 12 }, (_, i) => ({
  index: i,
  prompt: `What is ${i} + ${100 + i}?`,
  reference: String(100 + 2 * i),
}));
const fastRetry = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

function options(
  s: FakeTeacher,
  rows: GeneratedRow[],
  extra: Partial<GenerationOptions> = {},
): GenerationOptions {
  return {
    endpoint: { name: "fake", baseUrl: s.baseUrl, api: "openai", model: "fake-r1" },
    sampling: ZSampling.parse({}),
    prompts,
    samplesPerPrompt: 1,
    concurrency: 4,
    retry: fastRetry,
    idleTimeoutMs: 300,
    persist: async (r) => {
      rows.push(r);
    },
    ...extra,
  };
}

const keys = (rows: GeneratedRow[]) => rows.map((r) => `${r.promptIndex}:${r.sample}`).sort();

describe("runGeneration", () => {
  it("every fault ends as a retried success or a failed row with its reason; none lost or duplicated", async () => {
    server = await startFakeTeacher({
      faults: [
        { kind: "429", match: "What is 0 +", retryAfterS: 0 },
        { kind: "500", match: "What is 1 +" },
        { kind: "stall", match: "What is 2 +" },
        { kind: "drop", match: "What is 3 +" },
        { kind: "malformed", match: "What is 4 +" },
        { kind: "empty", match: "What is 5 +" },
        // row 6 fails more times than it may try: a failed row with the reason
        { kind: "500", match: "What is 6 +", times: 10 },
      ],
    });
    const rows: GeneratedRow[] = [];
    const counters = await runGeneration(options(server, rows, { samplesPerPrompt: 2 }));
    expect(keys(rows)).toEqual(prompts.flatMap((p) => [`${p.index}:0`, `${p.index}:1`]).sort());
    const failed = rows.filter((r) => r.status === "failed");
    expect(failed.map((r) => r.promptIndex).sort()).toEqual([6, 6]);
    for (const r of failed) expect(r.error).toContain('teacher "fake" failed (HTTP 500)');
    const retried = rows.filter((r) => r.status === "ok" && r.tries > 1);
    expect(retried.map((r) => r.failures[0]?.split(":")[0]).sort()).toEqual(
      ["dropped", "empty", "malformed", "rate_limited", "server", "timeout"].sort(),
    );
    // the fake teacher answers a prompt the same way twice: each second sample is a duplicate
    expect(counters).toMatchObject({ done: 24, failed: 2, accepted: 11 });
    for (const p of prompts.filter((x) => x.index !== 6)) {
      const pair = rows.filter((r) => r.promptIndex === p.index);
      expect(pair.map((r) => r.verification?.isDuplicate).sort()).toEqual([false, true]);
    }
    expect(counters.retries).toBe(6 + 2 * 3);
    expect(rows.filter((r) => r.status === "ok").every((r) => r.verification?.isCorrect)).toBe(true);
    for (const r of failed) expect(r.failures).toHaveLength(r.tries);
  });

  it("a wrong API key fails the job at once, naming the teacher, without retrying", async () => {
    server = await startFakeTeacher({ apiKey: "right" });
    const rows: GeneratedRow[] = [];
    const o = options(server, rows, { concurrency: 1 });
    o.endpoint = { ...o.endpoint, name: "DeepSeek", apiKey: "wrong-key-123" };
    const e = await runGeneration(o).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TeacherError);
    expect((e as TeacherError).kind).toBe("auth");
    expect((e as TeacherError).message).toContain('"DeepSeek"');
    expect(server.requests).toHaveLength(1);
    expect(rows).toHaveLength(0);
  });

  it("never asks again for a stored completion", async () => {
    server = await startFakeTeacher();
    const rows: GeneratedRow[] = [];
    const stored = [0, 3, 7].map((i) => ({ promptIndex: i, sample: 0, isVerified: true }));
    await runGeneration(options(server, rows, { stored }));
    expect(keys(rows)).toEqual(
      prompts
        .filter((p) => ![0, 3, 7].includes(p.index))
        .map((p) => `${p.index}:0`)
        .sort(),
    );
    for (const i of [0, 3, 7]) expect(server.requestsFor(prompts[i]?.prompt as string)).toBe(0);
    expect(server.requests).toHaveLength(9);
  });

  it("rejection sampling asks again until a sample verifies, up to k", async () => {
    const calls = new Map<string, number>();
    server = await startFakeTeacher({
      // prompt 0: wrong twice, then right; prompt 1: always wrong
      answer: (p) => {
        const n = (calls.get(p) ?? 0) + 1;
        calls.set(p, n);
        const wrong = p.includes("What is 1 +") || (p.includes("What is 0 +") && n <= 2);
        return { reasoning: `attempt ${n}`, answer: wrong ? "\\boxed{-1}" : "\\boxed{100}" };
      },
    });
    const rows: GeneratedRow[] = [];
    const counters = await runGeneration(
      options(server, rows, { prompts: prompts.slice(0, 2), rejectionAttempts: 4, concurrency: 1 }),
    );
    const of = (i: number) => rows.filter((r) => r.promptIndex === i);
    expect(of(0).map((r) => r.verification?.isVerified)).toEqual([false, false, true]);
    expect(of(1)).toHaveLength(4);
    expect(of(1).every((r) => r.verification?.isVerified === false)).toBe(true);
    expect(keys(of(1))).toEqual(["1:0", "1:1", "1:2", "1:3"]);
    expect(counters.accepted).toBe(1);
  });

  it("keeps within the concurrency and the requests-per-minute limit", async () => {
    server = await startFakeTeacher({ delayMs: 20 });
    const rows: GeneratedRow[] = [];
    await runGeneration(options(server, rows, { concurrency: 3 }));
    expect(server.maxInFlight).toBeLessThanOrEqual(3);
    expect(server.maxInFlight).toBeGreaterThan(1);
    // 600/min = a bucket of 600 that refills: all 12 go; the limiter is exercised by its own test
  });

  it("a cancel stops the work and persists nothing half-done", async () => {
    server = await startFakeTeacher({ delayMs: 50 });
    const rows: GeneratedRow[] = [];
    const controller = new AbortController();
    const o = options(server, rows, {
      concurrency: 2,
      signal: controller.signal,
      persist: async (r) => {
        rows.push(r);
        if (rows.length === 3) controller.abort();
      },
    });
    const e = await runGeneration(o).catch((x: unknown) => x);
    expect((e as TeacherError).kind).toBe("aborted");
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.length).toBeLessThan(12);
    expect(rows.every((r) => r.status === "ok")).toBe(true);
  });

  it("a slot asks its next prompt while its previous row is stored, and returns once every write ended", async () => {
    server = await startFakeTeacher();
    const stored: number[] = [];
    let releaseFirst = () => {};
    const firstWrite = new Promise<void>((r) => {
      releaseFirst = r;
    });
    const run = runGeneration(
      options(server, [], {
        prompts: prompts.slice(0, 3),
        concurrency: 1,
        persist: async (r) => {
          if (r.promptIndex === 0) await firstWrite;
          stored.push(r.promptIndex);
        },
      }),
    );
    // the second request goes out while the first row is still being written
    await expect.poll(() => server?.requests.length, { timeout: 5000 }).toBe(2);
    expect(stored).toEqual([]);
    // one write in flight per slot: the third waits for the first write to end
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests).toHaveLength(2);
    releaseFirst();
    const counters = await run;
    expect(stored).toEqual([0, 1, 2]);
    expect(counters.done).toBe(3);
  });

  it("a failed write stops the run, and no write is left in flight when it throws", async () => {
    server = await startFakeTeacher({ delayMs: 10 });
    let writesInFlight = 0;
    let writes = 0;
    const e = await runGeneration(
      options(server, [], {
        concurrency: 3,
        persist: async () => {
          writesInFlight++;
          const n = ++writes;
          await new Promise((r) => setTimeout(r, 30));
          writesInFlight--;
          if (n === 2) throw new Error("database is gone");
        },
      }),
    ).catch((x: unknown) => x);
    expect((e as Error).message).toBe("database is gone");
    expect(writesInFlight).toBe(0);
    expect(writes).toBeLessThan(12);
  });
});
