import "server-only";
import { getContext } from "@/lib/server/context.ts";
import { getEnv } from "@/lib/server/env.ts";

export interface ServiceHealth {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

async function timed(check: () => Promise<unknown>): Promise<ServiceHealth> {
  const started = performance.now();
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timed out after 3 s")), 3_000)),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (e) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (e as Error).message };
  }
}

export async function checkHealth() {
  const { db, redis } = getContext();
  const [database, queue] = await Promise.all([
    timed(() => db.$queryRaw`SELECT 1`),
    timed(() => redis.ping()),
  ]);
  const env = getEnv();
  // restarts of this web process by the supervisor of `npm start` (0: never crashed)
  const web = {
    restarts: env.DISTILLERY_RESTARTS,
    ...(env.DISTILLERY_LAST_EXIT
      ? { lastExit: env.DISTILLERY_LAST_EXIT, lastExitAt: env.DISTILLERY_LAST_EXIT_AT }
      : {}),
  };
  return { status: database.ok && queue.ok ? "ok" : "degraded", db: database, redis: queue, web };
}
