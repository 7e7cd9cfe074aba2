import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "./test-services.ts";

vi.mock("server-only", () => ({}));

// no queue needed: a refused launch never enqueues, an accepted one stays queued in PostgreSQL
process.env.REDIS_URL = "redis://127.0.0.1:1";
const dataDir = mkdtempSync(join(tmpdir(), "distillery-kd-launch-"));
process.env.DISTILLERY_DATA_DIR = dataDir;

let POST: (req: Request) => Promise<Response>;
let GET_TOKENIZERS: (req: Request) => Promise<Response>;
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let workspaceId = "";

/** a model row whose tokenizer.json is in the web's blob store */
async function addModel(id: string, vocab: Record<string, number>, added: string[], extra = {}) {
  const prefix = `models/${id}`;
  mkdirSync(join(dataDir, "blobs", prefix), { recursive: true });
  const base = Object.keys(vocab).length;
  writeFileSync(
    join(dataDir, "blobs", prefix, "tokenizer.json"),
    JSON.stringify({
      model: { type: "BPE", vocab },
      added_tokens: added.map((content, i) => ({ id: base + i, content, special: true })),
    }),
  );
  await db.model.create({
    data: { id, workspaceId, name: id, engines: ["local"], location: `blob:${prefix}`, ...extra },
  });
}

beforeAll(async () => {
  stopServices = await ensureTestServices();
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  const vocab = { a: 0, b: 1, c: 2 };
  await addModel("student", vocab, ["<|end|>"], { config: { num_hidden_layers: 2 } });
  // trained with the run's special tokens: same ids once the student adds them
  await addModel("teacher", vocab, ["<|end|>", "<think>", "</think>"]);
  await addModel("deep", vocab, ["<|end|>", "<think>", "</think>"], { config: { num_hidden_layers: 4 } });
  await addModel("stranger", { a: 0, x: 1, c: 2 }, ["<|end|>", "<think>", "</think>"]);
  await addModel("giant", vocab, ["<|end|>", "<think>", "</think>"], { parameters: 70_000_000_000n });
  await db.worker.create({
    data: { id: "wrk_1", workspaceId, host: "h", pid: 1, cpuCount: 2, memoryMb: 24_000, engines: ["local"] },
  });
  await db.dataset.create({ data: { id: "ds_t", workspaceId, name: "sums" } });
  await db.datasetVersion.create({
    data: { id: "dsv_t", workspaceId, datasetId: "ds_t", version: 1, operation: {}, rowCount: 10 },
  });
  ({ POST } = await import("@/app/api/runs/route.ts"));
  ({ GET: GET_TOKENIZERS } = await import("@/app/api/runs/teacher-tokenizers/route.ts"));
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId: "", workspaceId, name: "T", email: "t@example.com" }));
}, 120_000);
afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  await getContext().db.$disconnect();
  getContext().redis.disconnect();
  await drop?.();
  await stopServices?.();
});

const launch = (distillation: Record<string, unknown>) =>
  POST(
    new Request("http://x/api/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        config: {
          engine: "local",
          model: { id: "student" },
          data: { datasetVersionId: "dsv_t" },
          distillation,
        },
      }),
    }),
  );

describe("POST /api/runs with a distillation teacher", () => {
  it("a teacher of the same tokenizer (with the run's special tokens) is accepted", async () => {
    const res = await launch({ mode: "logit", teacher: { modelId: "teacher" } });
    expect(res.status).toBe(201);
  });

  it("a teacher that is not in the workspace is refused before queueing, at its field", async () => {
    const before = await db.run.count();
    const res = await launch({ mode: "on-policy", teacher: { modelId: "nobody" } });
    expect(res.status).toBe(422);
    const body = JSON.stringify(await res.json());
    expect(body).toMatch(/body\.config\.distillation\.teacher\.modelId/);
    expect(body).toMatch(/teacher model nobody does not exist in this workspace/);
    expect(await db.run.count()).toBe(before);
  });

  it("a teacher of another tokenizer is refused, naming both and the first differing token", async () => {
    const res = await launch({ mode: "logit", teacher: { modelId: "stranger" } });
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain(
      'the student (student) and the teacher (stranger) have different tokenizers: id 1 is \\"b\\" in the student and \\"x\\" in the teacher',
    );
  });

  it("a teacher too large for every worker of the engine is refused with the sizes", async () => {
    const res = await launch({ mode: "logit", teacher: { modelId: "giant" } });
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toMatch(
      /needs about 260\.8 GiB .* largest local worker's 23\.4 GiB/,
    );
  });

  it("feature layer pairs past a model's depth are refused at the pair's field", async () => {
    const res = await launch({
      mode: "feature",
      teacher: { modelId: "deep" },
      feature: {
        layers: [
          { student: 2, teacher: 4 },
          { student: 3, teacher: 4 },
        ],
      },
    });
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.errors).toEqual([
      {
        field: "body.config.distillation.feature.layers.1.student",
        message: "student layer 3 does not exist: the student has 2 layers (hidden states 0..2)",
      },
    ]);
    const ok = await launch({
      mode: "feature",
      teacher: { modelId: "deep" },
      feature: { layers: [{ student: 2, teacher: 4 }] },
    });
    expect(ok.status).toBe(201);
  });

  it("logit mode without a teacher is a validation error naming the field", async () => {
    const res = await launch({ mode: "logit" });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(/distillation\.teacher\.modelId/);
  });
});

describe("GET /api/runs/teacher-tokenizers (the teacher picker's check)", () => {
  const check = async (query: string) => {
    const res = await GET_TOKENIZERS(new Request(`http://x/api/runs/teacher-tokenizers?${query}`));
    return { status: res.status, body: await res.json() };
  };

  it("says per model whether it shares the student's tokenizer with the run's special tokens", async () => {
    const { status, body } = await check("student=student&specialTokens=%3Cthink%3E,%3C/think%3E");
    expect(status).toBe(200);
    expect(body.student).toBe("student");
    expect(body.teachers.teacher).toEqual({ tokenizer: "same" });
    expect(body.teachers.giant).toEqual({ tokenizer: "same" });
    expect(body.teachers.stranger.tokenizer).toBe("different");
    // the same words as the launch's refusal
    expect(body.teachers.stranger.reason).toBe(
      'the student (student) and the teacher (stranger) have different tokenizers: id 1 is "b" in the student and "x" in the teacher',
    );
  });

  it("without the run's special tokens the teacher's extra tokens differ", async () => {
    const { body } = await check("student=student");
    expect(body.teachers.teacher.tokenizer).toBe("different");
    expect(body.teachers.teacher.reason).toMatch(
      /id 4 is \(none\) in the student and "<think>" in the teacher/,
    );
  });

  it("a student the studio does not know leaves every teacher unchecked, saying why", async () => {
    const { status, body } = await check("student=nobody");
    expect(status).toBe(200);
    expect(body.student).toBeNull();
    expect(body.teachers.teacher).toEqual({
      tokenizer: "unknown",
      reason: "pick a student from the catalog to compare tokenizers",
    });
  });

  it("names the missing student parameter", async () => {
    const { status, body } = await check("");
    expect(status).toBe(400);
    expect(JSON.stringify(body)).toMatch(/query\.student/);
  });
});
