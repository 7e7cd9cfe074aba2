import type { Db } from "./client.ts";
import { createTestDatabase } from "./test-database.ts";
import { testAdminDatabaseUrl } from "./test-env.ts";
import { registerWorker } from "./workers.ts";
import { ensureDefaultWorkspace } from "./workspaces.ts";

/**
 * The set-up of tests that run work as a worker would: a fresh test database, its default
 * workspace, and a registered local-engine worker `workerId`. `drop` removes the database.
 */
export async function createTestDatabaseWithWorker(
  workerId: string,
): Promise<{ db: Db; drop: () => Promise<void>; workspaceId: string }> {
  const { db, drop } = await createTestDatabase(testAdminDatabaseUrl());
  const { workspaceId } = await ensureDefaultWorkspace(db);
  await registerWorker(db, {
    id: workerId,
    workspaceId,
    host: "t",
    pid: 1,
    cpuCount: 1,
    memoryMb: 1,
    gpus: [],
    engines: ["local"],
    capabilities: {},
    version: "t",
  });
  return { db, drop, workspaceId };
}
