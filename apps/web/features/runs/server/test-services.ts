import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSupervisor, startServices } from "@distillery/services";

/**
 * For integration tests: `npm test` passes the PostgreSQL and Redis it started
 * (TEST_ADMIN_DATABASE_URL, TEST_REDIS_URL); a file run alone starts throwaway ones. Returns the
 * function that stops what was started here.
 */
export async function ensureTestServices(): Promise<() => Promise<void>> {
  if (process.env.TEST_ADMIN_DATABASE_URL && process.env.TEST_REDIS_URL) return async () => {};
  const supervisor = createSupervisor(() => {});
  const urls = await startServices({
    dataDir: join(tmpdir(), `distillery-web-${process.pid}`),
    supervisor,
    isEphemeral: true,
    log: () => {},
  });
  process.env.TEST_ADMIN_DATABASE_URL = urls.adminDatabaseUrl;
  process.env.TEST_REDIS_URL = urls.redisUrl;
  return () => supervisor.stopAll();
}
