import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "./test-services.ts";

vi.mock("server-only", () => ({}));

// Redis is down for this whole file (nothing listens on port 1): the row is the truth.
process.env.REDIS_URL = "redis://127.0.0.1:1";

let POST: (req: Request) => Promise<Response>;
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let workspaceId = "";
let otherVersionId = "";
beforeAll(async () => {
  stopServices = await ensureTestServices();
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  await db.model.create({ data: { id: "mdl_t", workspaceId, name: "tiny", engines: ["local"] } });
  await db.dataset.create({ data: { id: "ds_t", workspaceId, name: "sums" } });
  await db.datasetVersion.create({
    data: { id: "dsv_t", workspaceId, datasetId: "ds_t", version: 1, operation: {}, rowCount: 10 },
  });
  // a ready version in another workspace
  await db.workspace.create({ data: { id: "ws_other", slug: "other", name: "Other" } });
  await db.dataset.create({ data: { id: "ds_o", workspaceId: "ws_other", name: "theirs" } });
  otherVersionId = (
    await db.datasetVersion.create({
      data: {
        id: "dsv_o",
        workspaceId: "ws_other",
        datasetId: "ds_o",
        version: 1,
        operation: {},
        rowCount: 10,
      },
    })
  ).id;
  ({ POST } = await import("@/app/api/runs/route.ts"));
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

const launch = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  POST(
    new Request("http://x/api/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        config: {
          engine: "local",
          model: { id: "mdl_t" },
          data: { datasetVersionId: "dsv_t", ...data },
          ...extra,
        },
      }),
    }),
  );

describe("POST /api/runs", () => {
  it("while Redis is down: answers 201 with the run queued (not 503 and failed for ever)", async () => {
    const res = await launch({});
    expect(res.status).toBe(201);
    const { run } = (await res.json()) as { run: { id: string; status: string } };
    expect(run.status).toBe("queued");
    const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(row).toMatchObject({ status: "queued", error: null, finishedAt: null });
  });

  it("refuses eval dataset versions of another workspace, naming the field", async () => {
    const res = await launch({ evalDatasetVersionId: otherVersionId });
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toMatch(/body\.config\.data\.evalDatasetVersionId/);
    const res2 = await launch({}, { evaluation: { datasetVersionId: otherVersionId } });
    expect(res2.status).toBe(422);
    expect(JSON.stringify(await res2.json())).toMatch(/body\.config\.evaluation\.datasetVersionId/);
    expect(await db.run.count({ where: { workspaceId } })).toBe(1);
  });
});
