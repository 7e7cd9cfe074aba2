import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AppHandle, Supervisor } from "@distillery/services";
import { runCommand, waitForHttp } from "./run-command.ts";

export const ROOT = join(import.meta.dirname, "..", "..");

export async function generatePrismaClient(): Promise<void> {
  const code = await runCommand(process.execPath, [join(ROOT, "scripts/prisma-generate.mjs")], { cwd: ROOT });
  if (code !== 0) throw new Error("prisma generate failed");
}

export async function buildWeb(env: NodeJS.ProcessEnv): Promise<void> {
  console.log("[stack] building the web app (next build)…");
  const code = await runCommand(process.execPath, [join(ROOT, "node_modules/next/dist/bin/next"), "build"], {
    cwd: join(ROOT, "apps/web"),
    env: { ...env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (code !== 0) throw new Error("next build failed");
}

export function hasWebBuild(): boolean {
  return existsSync(join(ROOT, "apps/web/.next/BUILD_ID"));
}

/** Starts the built web app and waits until /api/health answers; returns its URL. */
export async function startWeb(
  supervisor: Supervisor,
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<string> {
  return (await startWebApp(supervisor, env, port)).url;
}

/** startWeb, also returning the supervisor's handle on the web (its pid, its restarts). */
export async function startWebApp(
  supervisor: Supervisor,
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<{ url: string; app: AppHandle }> {
  const app = supervisor.spawnApp(
    "web",
    process.execPath,
    [join(ROOT, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"],
    { ...env, NEXT_TELEMETRY_DISABLED: "1", PORT: String(port) },
    join(ROOT, "apps/web"),
  );
  const url = `http://localhost:${port}`;
  // a web that dies before it first answers is a failed start (a broken build), not a crash to restart
  await waitForHttp(`${url}/api/health`, 180_000, () => !app.isRunning());
  return { url, app };
}

export function startWorker(supervisor: Supervisor, env: NodeJS.ProcessEnv, name = "worker") {
  return supervisor.spawnApp(
    name,
    process.execPath,
    ["--import", "tsx", join(ROOT, "apps/worker/src/main.ts")],
    env,
    ROOT,
  );
}
