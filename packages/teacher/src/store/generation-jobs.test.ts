import { randomBytes } from "node:crypto";
import type { Db } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedRow } from "../generation/run-generation.ts";
import { decryptSecret } from "../secret-box.ts";
import {
  claimGenerationJob,
  createGenerationJob,
  finishGenerationJob,
  heartbeatGenerationJob,
  insertGenerationRow,
  listStoredAttempts,
  markGenerationRunning,
  requestGenerationAction,
  requeueStaleGenerationJobs,
  sumGenerationRows,
} from "./generation-jobs.ts";
import { createTeacher, listTeachers, loadTeacherEndpoint, updateTeacher } from "./teachers.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
const key = randomBytes(32);

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker("wkr_a"));
});
afterAll(async () => {
  await drop?.();
});

const teacherInput = {
  name: "R1",
  api: "openai" as const,
  baseUrl: "http://127.0.0.1:9/v1",
  model: "deepseek-reasoner",
  priceInPerM: 0.55,
  priceOutPerM: 2.19,
};

describe("teachers", () => {
  it("seals the key at rest and never lists it", async () => {
    const t = await createTeacher(db, key, { ...teacherInput, workspaceId, apiKey: "sk-very-secret" });
    expect(t.hasApiKey).toBe(true);
    expect(JSON.stringify(t)).not.toContain("sk-very-secret");
    expect(JSON.stringify(await listTeachers(db, workspaceId))).not.toContain("sk-very-secret");
    const raw = await db.teacher.findUniqueOrThrow({ where: { id: t.id } });
    expect(raw.apiKeySealed).not.toContain("sk-very-secret");
    expect(decryptSecret(raw.apiKeySealed as string, key)).toBe("sk-very-secret");
    expect((await loadTeacherEndpoint(db, key, workspaceId, t.id))?.apiKey).toBe("sk-very-secret");
    // omitted: kept; empty: removed
    expect((await updateTeacher(db, key, workspaceId, t.id, { model: "m2" }))?.hasApiKey).toBe(true);
    expect((await updateTeacher(db, key, workspaceId, t.id, { apiKey: "" }))?.hasApiKey).toBe(false);
    expect(() => decryptSecret(raw.apiKeySealed as string, randomBytes(32))).toThrow(/cannot be decrypted/);
  });
});

function held<T>(v: T | null | undefined): T {
  if (v === null || v === undefined) throw new Error("expected a lease");
  return v;
}

const row = (promptIndex: number, sample: number, isVerified = true): GeneratedRow => ({
  promptIndex,
  sample,
  status: "ok",
  tries: 2,
  failures: ["server: x"],
  wallMs: 1,
  completion: {
    reasoning: "r",
    answer: `\\boxed{${promptIndex}}`,
    finishReason: "stop",
    usage: { promptTokens: 3, completionTokens: 5, reasoningTokens: 2 },
    reasoningSource: "reasoning_content",
    think: "separate",
    latencyMs: 10,
    firstByteMs: 1,
  },
  verification: {
    extracted: String(promptIndex),
    isCorrect: isVerified,
    isThinkValid: true,
    isTruncated: false,
    isDuplicate: false,
    isVerified,
    reasons: [],
  },
});

describe("generation jobs", () => {
  it("claims once, fences a stale worker, stores rows idempotently", async () => {
    const teacher = await createTeacher(db, key, { ...teacherInput, name: "R1b", workspaceId });
    const job = await createGenerationJob(db, {
      workspaceId,
      name: "g",
      teacherId: teacher.id,
      config: {},
      total: 3,
    });
    const lease = await claimGenerationJob(db, job.id, "wkr_a");
    expect(lease?.attempt).toBe(1);
    expect(await claimGenerationJob(db, job.id, "wkr_b")).toBeNull();
    expect(await markGenerationRunning(db, held(lease))).toBe(true);
    await insertGenerationRow(db, job.id, row(0, 0));
    await insertGenerationRow(db, job.id, row(0, 0, false));
    await insertGenerationRow(db, job.id, row(1, 0, false));
    const stored = await listStoredAttempts(db, job.id);
    expect(stored.map((s) => [s.promptIndex, s.sample, s.isVerified])).toEqual([
      [0, 0, true],
      [1, 0, false],
    ]);
    expect(await sumGenerationRows(db, job.id)).toMatchObject({
      done: 2,
      accepted: 1,
      tokensOut: 10,
      retries: 2,
    });

    // the worker goes silent: re-queued, its lease no longer holds
    await db.generationJob.update({
      where: { id: job.id },
      data: { heartbeatAt: new Date(Date.now() - 60_000) },
    });
    expect((await requeueStaleGenerationJobs(db, 30_000)).map((j) => j.id)).toEqual([job.id]);
    const next = await claimGenerationJob(db, job.id, "wkr_b");
    expect(next?.attempt).toBe(2);
    expect((await heartbeatGenerationJob(db, held(lease))).isLeaseHeld).toBe(false);
    expect(await finishGenerationJob(db, held(lease), { status: "succeeded" })).toBe(false);
    expect(await finishGenerationJob(db, held(next), { status: "succeeded", resultVersionId: "dv_x" })).toBe(
      true,
    );
    const done = await db.generationJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(done).toMatchObject({ status: "succeeded", interruptions: 1, resultVersionId: "dv_x" });
  });

  it("pause, resume and cancel", async () => {
    const job = await createGenerationJob(db, {
      workspaceId,
      name: "p",
      teacherId: null as unknown as string,
      config: {},
      total: 1,
    });
    expect(await requestGenerationAction(db, workspaceId, job.id, "pause")).toEqual({
      status: "paused",
      shouldEnqueue: false,
    });
    expect(await claimGenerationJob(db, job.id, "wkr_a")).toBeNull();
    expect(await requestGenerationAction(db, workspaceId, job.id, "resume")).toEqual({
      status: "queued",
      shouldEnqueue: true,
    });
    const lease = await claimGenerationJob(db, job.id, "wkr_a");
    expect(lease).not.toBeNull();
    await requestGenerationAction(db, workspaceId, job.id, "pause");
    expect(await heartbeatGenerationJob(db, held(lease), { inFlight: 3 })).toMatchObject({
      isPauseRequested: true,
      isLeaseHeld: true,
    });
    expect(await finishGenerationJob(db, held(lease), { status: "paused" })).toBe(true);
    expect(await requestGenerationAction(db, workspaceId, job.id, "cancel")).toEqual({
      status: "cancelled",
      shouldEnqueue: false,
    });
    expect(await requestGenerationAction(db, "other", job.id, "cancel")).toBeNull();
  });
});
