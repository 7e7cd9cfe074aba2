import { createRun, type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";

vi.mock("server-only", () => ({}));

let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let workspaceId = "";
let getHome: typeof import("./get-home.ts").getHome;

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  ({ getHome } = await import("./get-home.ts"));
}, 120_000);
afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await drop?.();
  await stopServices?.();
});

describe("the home page's data", () => {
  it("is a new workspace while it holds only the demo, and ticks the first steps as they are done", async () => {
    expect((await getHome(workspaceId)).firstSteps).toEqual({
      isNewWorkspace: true,
      demoRun: null,
      hasOwnDataset: false,
      hasOwnModel: false,
    });
    await db.dataset.create({ data: { id: "ds_demo", workspaceId, name: "demo-arith-traces" } });
    await db.model.create({ data: { id: "mdl_demo", workspaceId, name: "distillery/tiny-arith-student" } });
    const demo = await createRun(db, {
      workspaceId,
      name: "Tiny reasoning demo — distillation",
      engine: "local",
      config: {},
    });
    let home = await getHome(workspaceId);
    expect(home.firstSteps).toMatchObject({
      isNewWorkspace: true,
      demoRun: { id: demo.id, status: "queued" },
    });
    expect(home.queue).toMatchObject({ waiting: 1, byEngine: { local: 1 } });

    await db.dataset.create({ data: { id: "ds_mine", workspaceId, name: "stratos" } });
    home = await getHome(workspaceId);
    expect(home.firstSteps).toMatchObject({ isNewWorkspace: false, hasOwnDataset: true, hasOwnModel: false });
  });

  it("shows a running run's progress from its latest status and metric", async () => {
    const run = await createRun(db, { workspaceId, name: "mine", engine: "local", config: {} });
    await db.run.update({ where: { id: run.id }, data: { status: "running", startedAt: new Date() } });
    await db.runEvent.createMany({
      data: [
        {
          workspaceId,
          runId: run.id,
          seq: 0,
          type: "status",
          data: { type: "status", phase: "training", step: 0, totalSteps: 400 },
        },
        {
          workspaceId,
          runId: run.id,
          seq: 1,
          type: "metric",
          step: 120,
          data: { type: "metric", step: 120, values: { loss: 1 } },
        },
      ],
    });
    const home = await getHome(workspaceId);
    expect(home.running.map((r) => [r.name, r.progress])).toEqual([
      ["mine", { phase: "training", step: 120, totalSteps: 400 }],
    ]);
  });
});
