import { type Db, ensureDefaultWorkspace, registerWorker } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";

/**
 * Tests' set-up: a fresh database (real PostgreSQL, see @distillery/db/testing), its default
 * workspace, and a registered local-engine worker `workerId`, as a running worker would leave
 * them. `drop` removes the database.
 */
export async function createWorkerTestDatabase(
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
