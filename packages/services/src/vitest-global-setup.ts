import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServices } from "./start-services.ts";
import { createSupervisor } from "./supervisor.ts";

/**
 * Vitest globalSetup for packages whose tests need the real PostgreSQL and Redis. `npm test`
 * starts them once and passes TEST_ADMIN_DATABASE_URL / TEST_REDIS_URL; a package run on its
 * own (`npx vitest` in its folder) starts throwaway embedded ones here instead.
 */
export default async function setup() {
  if (process.env.TEST_ADMIN_DATABASE_URL && process.env.TEST_REDIS_URL) return;
  const supervisor = createSupervisor(() => {});
  const urls = await startServices({
    dataDir: join(tmpdir(), `distillery-vitest-${process.pid}`),
    supervisor,
    isEphemeral: true,
    log: () => {},
  });
  process.env.TEST_ADMIN_DATABASE_URL = urls.adminDatabaseUrl;
  process.env.TEST_REDIS_URL = urls.redisUrl;
  return () => supervisor.stopAll();
}
