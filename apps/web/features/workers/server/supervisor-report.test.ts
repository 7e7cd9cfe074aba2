import { type Db, ensureDefaultWorkspace, registerWorker } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";

vi.mock("server-only", () => ({}));

// what the supervisor of `npm start` tells a web it restarted after a crash
process.env.DISTILLERY_RESTARTS = "3";
process.env.DISTILLERY_LAST_EXIT = "SIGKILL";
process.env.DISTILLERY_LAST_EXIT_AT = "2026-12-03T12:00:00.000Z";

type Handler = (req: Request) => Promise<Response>;
let workers: Handler;
let health: Handler;
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let workspaceId = "";

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  workers = (await import("@/app/api/workers/route.ts")).GET;
  health = (await import("@/app/api/health/route.ts")).GET;
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

const worker = (id: string, capabilities: Parameters<typeof registerWorker>[1]["capabilities"]) =>
  registerWorker(db, {
    id,
    workspaceId,
    host: "h",
    pid: 1,
    cpuCount: 1,
    memoryMb: 1,
    gpus: [],
    engines: ["local"],
    capabilities,
    version: "t",
  });

describe("what the supervisor reports after restarting an app", () => {
  it("GET /api/workers (the Workers page) shows a restarted worker's restarts and last exit", async () => {
    await worker("w-restarted", {
      supervisor: { restarts: 2, lastExit: "SIGKILL", lastExitAt: "2026-12-03T12:00:00.000Z" },
    });
    await worker("w-fresh", {});
    const res = await workers(new Request("http://x/api/workers"));
    expect(res.status).toBe(200);
    const { workers: list } = (await res.json()) as {
      workers: { id: string; supervisor: Record<string, unknown> | null }[];
    };
    expect(list.find((w) => w.id === "w-restarted")?.supervisor).toEqual({
      restarts: 2,
      lastExit: "SIGKILL",
      lastExitAt: "2026-12-03T12:00:00.000Z",
    });
    expect(list.find((w) => w.id === "w-fresh")?.supervisor).toBeNull();
  });

  it("GET /api/health shows the web's own restarts and last exit", async () => {
    const res = await health(new Request("http://x/api/health"));
    const body = (await res.json()) as { web: Record<string, unknown> };
    expect(body.web).toEqual({ restarts: 3, lastExit: "SIGKILL", lastExitAt: "2026-12-03T12:00:00.000Z" });
  });
});
