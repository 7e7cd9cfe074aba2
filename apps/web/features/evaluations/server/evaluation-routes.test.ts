import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Db, ensureDefaultWorkspace, newId } from "@distillery/db";
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
let routes: Record<"create" | "compare" | "exportCsv" | "cancel" | "list", Handler>;
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
      params({ evaluationId: ids[1]! }),
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
});
