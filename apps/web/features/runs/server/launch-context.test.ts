import { randomBytes } from "node:crypto";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { QUEUES } from "@distillery/jobs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "./test-services.ts";

vi.mock("server-only", () => ({}));

/** A run's max sequence length against its model's context window, through POST /api/runs. */
process.env.QUEUE_PREFIX = `lc${randomBytes(3).toString("hex")}`;
let POST: (req: Request) => Promise<Response>;
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  const { workspaceId } = await ensureDefaultWorkspace(db);
  await db.model.create({
    data: {
      id: "mdl_ctx",
      workspaceId,
      name: "tiny-128",
      engines: ["local"],
      facts: { contextLength: 128 },
      config: { max_position_embeddings: 128 },
    },
  });
  await db.dataset.create({ data: { id: "ds_c", workspaceId, name: "sums" } });
  await db.datasetVersion.create({
    data: {
      id: "dsv_c",
      workspaceId,
      datasetId: "ds_c",
      version: 1,
      operation: {},
      rowCount: 10,
      status: "ready",
    },
  });
  ({ POST } = await import("@/app/api/runs/route.ts"));
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId: "", workspaceId, name: "T", email: "t@example.com" }));
}, 120_000);
afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.queue(QUEUES.runsLocal).obliterate({ force: true });
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await drop?.();
  await stopServices?.();
});

const launch = (maxSeqLength: number) =>
  POST(
    new Request("http://x/api/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        config: {
          engine: "local",
          model: { id: "mdl_ctx" },
          data: { datasetVersionId: "dsv_c" },
          training: { maxSeqLength },
        },
      }),
    }),
  );

describe("the max sequence length against the model's context", () => {
  it("refuses a length past the window with 422 naming the field and the window, and takes one within it", async () => {
    const over = await launch(640);
    expect(over.status).toBe(422);
    const problem = (await over.json()) as { errors: { field: string; message: string }[] };
    expect(problem.errors).toEqual([
      {
        field: "body.config.training.maxSeqLength",
        message: "max sequence length 640 is over tiny-128's context of 128 tokens",
      },
    ]);
    expect(await db.run.count()).toBe(0);
    expect((await launch(128)).status).toBe(201);
  });
});
