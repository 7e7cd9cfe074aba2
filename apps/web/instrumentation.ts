/**
 * Runs once when the server starts: parse the environment and reach PostgreSQL and Redis, or stop
 * with the variable's name and what is wrong — before the first request, not during it.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { checkStartupOrExit } = await import("./lib/server/check-startup.ts");
  await checkStartupOrExit();
}
