import { pingRedis, redactUrl } from "@distillery/jobs";
import { getContext } from "./context.ts";
import { getEnv } from "./env.ts";

export async function checkStartup(): Promise<void> {
  const env = getEnv();
  await pingRedis(env.REDIS_URL).catch((e: Error) => {
    throw new Error(`REDIS_URL: ${e.message}`);
  });
  try {
    await getContext().db.$queryRaw`SELECT 1`;
  } catch (e) {
    throw new Error(
      `DATABASE_URL: cannot reach PostgreSQL at ${redactUrl(env.DATABASE_URL)}: ${(e as Error).message}`,
    );
  }
}

export async function checkStartupOrExit(): Promise<void> {
  try {
    await checkStartup();
  } catch (e) {
    console.error(`[web] cannot start: ${(e as Error).message}`);
    process.exit(1);
  }
}
