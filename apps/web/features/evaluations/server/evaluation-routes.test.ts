import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readVersionRows } from "@distillery/datasets";
import { createRun, type Db, ensureDefaultWorkspace, newId } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { QUEUES } from "@distillery/jobs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";

vi.mock("server-only", () => ({}));

/** The evaluation routes against the real Postgres and Redis (no worker consumes this prefix). */
const dataDir = mkdtempSync(join(tmpdir(), "evaluation-routes-"));
process.env.DISTILLERY_DATA_DIR = dataDir;
process.env.DISTILLERY_AUTH = "local";
process.env.QUEUE_PREFIX = `ev${randomBytes(3).toString("hex")}`;
type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;
let routes: Record<"create" | "compare" | "exportCsv" | "cancel" | "list" | "upload", Handler>;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let stopServices: (() => Promise<void>) | undefined;
let workspaceId = "";
const ids: string[] = [];

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  const actor = await ensureDefaultWorkspace(db);
  workspaceId = actor.workspaceId;
  routes = {
    create: (await import("@/app/api/evaluations/route.ts")).POST,
    list: (await import("@/app/api/evaluations/route.ts")).GET,
    compare: (await import("@/app/api/evaluations/compare/route.ts")).GET,
    exportCsv: (await import("@/app/api/evaluations/[evaluationId]/export/route.ts")).GET,
    cancel: (await import("@/app/api/evaluations/[evaluationId]/cancel/route.ts")).POST,
    upload: (await import("@/app/api/evaluations/eval-sets/route.ts")).POST,
  };
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId: actor.userId, workspaceId, name: "T", email: "t@example.com" }));
  // base: right on 0 and 1; distilled: right on 1 and 2 → 2 fixed, 0 broken
  const correct = [
    [true, true, false, false],
    [false, true, true, false],
  ];
  for (const [e, pattern] of correct.entries()) {
    const id = newId("eval");
    ids.push(id);
    await db.evaluation.create({
      data: {
        id,
        workspaceId,
        name: e ? "distilled" : "base",
        model: e ? "run_x" : "tiny",
        evalSet: { kind: "version", versionId: "v" },
        settings: {},
        status: "succeeded",
      },
    });
    await db.evaluationResult.createMany({
      data: pattern.map((isCorrect, index) => ({
        evaluationId: id,
        index,
        prompt: `What is ${index} + 1?`,
        reference: String(index + 1),
        outputs: [index === 3 ? '=HYPERLINK("x"), <script>' : `\\boxed{${isCorrect ? index + 1 : 0}}`],
        scores: [],
        isCorrect,
      })),
    });
  }
}, 120_000);

afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.queue(QUEUES.evaluations).obliterate({ force: true });
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await drop?.();
  await stopServices?.();
});

const params = (p: Record<string, string>) => ({ params: Promise.resolve(p) });

describe("evaluation routes", () => {
  it("compares two evaluations side by side with the distillation filters", async () => {
    const get = async (filter: string) =>
      (await (
        await routes.compare(
          new Request(`http://x/api/evaluations/compare?ids=${ids.join(",")}&filter=${filter}`),
        )
      ).json()) as {
        counts: Record<string, number>;
        rows: { index: number; cells: { isCorrect: boolean }[] }[];
      };
    const fixed = await get("fixed");
    expect(fixed.rows.map((r) => r.index)).toEqual([2]);
    expect(fixed.counts).toEqual({ all: 4, wrong: 3, fixed: 1, broken: 1 });
    expect((await get("broken")).rows.map((r) => r.index)).toEqual([0]);
    expect((await get("wrong")).rows.map((r) => r.index)).toEqual([0, 2, 3]);
    const tooMany = await routes.compare(new Request("http://x/api/evaluations/compare?ids=a,b,c,d,e"));
    expect(tooMany.status).toBe(400);
  });

  it("exports CSV with model text quoted as text", async () => {
    const res = await routes.exportCsv(
      new Request(`http://x/api/evaluations/${ids[1]}/export?format=csv`),
      params({ evaluationId: ids[1] ?? "" }),
    );
    expect(res.headers.get("content-type")).toMatch(/text\/csv/);
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines[0]).toMatch(/^index,prompt,reference,output,is_correct/);
    expect(lines).toHaveLength(5);
    // a formula-like cell is defused, and model text stays text
    expect(lines[4]).toContain(`"'=HYPERLINK(""x""), <script>"`);
  });

  it("creating an evaluation names a bad field; a good one is queued and can be cancelled", async () => {
    const bad = await routes.create(
      new Request("http://x/api/evaluations", {
        method: "POST",
        body: JSON.stringify({ models: ["nope"], evalSet: { kind: "version", versionId: "v" } }),
      }),
    );
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("body.models.0");
    const badSettings = await routes.create(
      new Request("http://x/api/evaluations", {
        method: "POST",
        body: JSON.stringify({
          models: ["tiny"],
          evalSet: { kind: "version", versionId: "v" },
          settings: { k: 0 },
        }),
      }),
    );
    expect(JSON.stringify(await badSettings.json())).toContain("body.settings.k");
    // a queued one, made directly (no model in this workspace), is cancelled at once
    const id = newId("eval");
    await db.evaluation.create({
      data: {
        id,
        workspaceId,
        name: "q",
        model: "tiny",
        evalSet: { kind: "version", versionId: "v" },
        settings: {},
      },
    });
    const res = await routes.cancel(
      new Request(`http://x/api/evaluations/${id}/cancel`, { method: "POST" }),
      params({ evaluationId: id }),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("cancelled");
  });

  it("an uploaded prompt/answer file becomes an eval set a teacher is evaluated on", async () => {
    const post = (body: unknown) =>
      routes.upload(
        new Request("http://x/api/evaluations/eval-sets", { method: "POST", body: JSON.stringify(body) }),
      );
    const csv =
      'question,solution\r\nWhat is 1 + 1?,2\r\n"What is 2 + 3, exactly?","We add. The answer is \\boxed{5}."\r\n,\r\nWhat is 4 + 4?,8\r\n';
    const res = await post({ fileName: "sums.csv", text: csv });
    expect(res.status).toBe(201);
    const up = (await res.json()) as { versionId: string; label: string; rows: number; skipped: number };
    expect([up.rows, up.skipped, up.label]).toEqual([3, 1, "eval set · sums.csv v1"]);
    const version = await db.datasetVersion.findUniqueOrThrow({ where: { id: up.versionId } });
    const { getContext } = await import("@/lib/server/context.ts");
    const path = getContext().store.localPath(version.blobKey ?? "");
    const rows = [];
    for await (const r of readVersionRows(path ?? "")) rows.push(r);
    expect(rows.map((r) => [r.messages[0]?.content, r.reference])).toEqual([
      ["What is 1 + 1?", "2"],
      ["What is 2 + 3, exactly?", "5"],
      ["What is 4 + 4?", "8"],
    ]);
    // a teacher of the workspace is evaluated as teacher:<id>, named after the teacher
    const teacherId = newId("tch");
    await db.teacher.create({
      data: { id: teacherId, workspaceId, name: "R1 api", baseUrl: "http://127.0.0.1:9/v1", model: "r1" },
    });
    const created = await routes.create(
      new Request("http://x/api/evaluations", {
        method: "POST",
        body: JSON.stringify({
          models: [`teacher:${teacherId}`],
          evalSet: { kind: "version", versionId: up.versionId },
        }),
      }),
    );
    expect(created.status).toBe(201);
    const [ev] = ((await created.json()) as { evaluations: { name: string; model: string }[] }).evaluations;
    expect(ev).toMatchObject({ name: "R1 api on eval set · sums.csv v1", model: `teacher:${teacherId}` });
    // bad files name the field
    const noAnswer = await post({ fileName: "q.jsonl", text: '{"prompt":"What is 1 + 1?"}\n' });
    expect(noAnswer.status).toBe(400);
    expect(JSON.stringify(await noAnswer.json())).toContain("body.answerColumn");
    const missing = await post({ fileName: "q.jsonl", text: '{"prompt":"a","answer":""}\n' });
    expect(JSON.stringify(await missing.json())).toContain("no answer");
    const lines = await post({ fileName: "q.txt", text: "What is 1 + 1?\n" });
    expect(lines.status).toBe(400);
    const wrongColumn = await post({ text: '{"prompt":"a","answer":"1"}\n', answerColumn: "gold" });
    expect(JSON.stringify(await wrongColumn.json())).toMatch(/gold.*does not exist/);
  });

  it("a run's before/after evaluations become ordinary evaluations linked to the run, once", async () => {
    const r = await createRun(db, {
      workspaceId,
      name: "demo run",
      engine: "local",
      config: { model: { id: "tiny base" } },
    });
    for (const [seq, name, accuracy] of [
      [1, "before", 0.25],
      [2, "after", 0.75],
    ] as const)
      await db.runEvent.create({
        data: { workspaceId, runId: r.id, seq, type: "eval", data: { name, metrics: { accuracy, n: 8 } } },
      });
    const list = async () =>
      (
        (await (await routes.list(new Request(`http://x/api/evaluations?runId=${r.id}`))).json()) as {
          evaluations: {
            name: string;
            model: string;
            phase: string;
            runId: string;
            metrics: { accuracy: number };
          }[];
        }
      ).evaluations;
    const first = await list();
    expect(first.map((e) => [e.phase, e.model, e.metrics.accuracy, e.runId]).sort()).toEqual([
      ["after", r.id, 0.75, r.id],
      ["before", "tiny base", 0.25, r.id],
    ]);
    expect(await list()).toHaveLength(2);
    // and they are in the workspace's list too
    const all = (await (await routes.list(new Request("http://x/api/evaluations"))).json()) as {
      evaluations: { runId: string | null }[];
    };
    expect(all.evaluations.filter((e) => e.runId === r.id)).toHaveLength(2);
  });
});
