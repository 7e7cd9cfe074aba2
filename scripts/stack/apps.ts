import { copyFileSync, cpSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join, relative, sep } from "node:path";
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

/**
 * Copies the current web build (apps/web/.next without its cache) into `dir`, a folder two
 * levels under the repository root as apps/web is (the build's links to node_modules are
 * relative), so a drill serves a build of its own that another checkout's `next build` (an
 * e2e run) cannot replace under it. Refuses while a build is being written.
 */
export function snapshotWebBuild(dir: string): string {
  const from = join(ROOT, "apps/web/.next");
  if (relative(ROOT, dir).split(sep).length !== 2)
    throw new Error(`${dir}: a web snapshot must sit two folders under ${ROOT}, as apps/web does`);
  if (!hasWebBuild())
    throw new Error("no web build to snapshot (apps/web/.next/BUILD_ID): run next build first");
  const buildId = readFileSync(join(from, "BUILD_ID"), "utf8");
  rmSync(dir, { recursive: true, force: true });
  cpSync(from, join(dir, ".next"), {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => relative(from, src) !== "cache",
  });
  for (const f of ["package.json", "next.config.ts"]) copyFileSync(join(ROOT, "apps/web", f), join(dir, f));
  if (!hasWebBuild() || readFileSync(join(from, "BUILD_ID"), "utf8") !== buildId)
    throw new Error("the web build changed while it was copied (a next build is running): try again");
  return dir;
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
  /** the folder holding the build (.next): apps/web, or a snapshotWebBuild() copy */
  appDir = join(ROOT, "apps/web"),
): Promise<{ url: string; app: AppHandle }> {
  const app = supervisor.spawnApp(
    "web",
    process.execPath,
    [join(ROOT, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"],
    { ...env, NEXT_TELEMETRY_DISABLED: "1", PORT: String(port) },
    appDir,
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
