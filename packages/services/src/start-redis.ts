import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureDebianPackage } from "./ensure-debian-package.ts";
import { findFreePort, isPortOpen } from "./free-port.ts";

export interface RedisHandle {
  url: string;
  port: number;
  pid: number | undefined;
  stop(): Promise<void>;
}

const HOW_TO_GET_REDIS =
  "Install Redis ≥ 6.2: `sudo apt-get install redis-server` (Debian/Ubuntu), `brew install redis` (macOS), " +
  "or `docker compose up -d redis` and set REDIS_URL=redis://127.0.0.1:6379.";

/**
 * A redis-server left behind by a killed supervisor (it runs in its own process group, so it
 * outlives one) still writes this data folder: stop it before a new one uses the folder.
 */
async function stopLeftoverRedis(pidFile: string, log: (m: string) => void): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8").trim(), 10);
  if (!Number.isFinite(pid) || pid <= 0) return;
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("redis-server")) return;
  } catch {
    return; // not running
  }
  log(`[redis] stopping a leftover server (pid ${pid}) that holds ${pidFile.replace(/\/redis\.pid$/, "")}`);
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  process.kill(pid, "SIGKILL");
}

/**
 * Starts `redis-server` from the PATH on 127.0.0.1 with its data in `dataDir` (append-only file
 * when persistent, so queued jobs survive a restart). Installs it with apt when missing and
 * permitted; otherwise stops with how to get it.
 */
export async function startRedis(options: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  log?: (message: string) => void;
}): Promise<RedisHandle> {
  const log = options.log ?? (() => {});
  ensureDebianPackage("redis-server", "redis-server", HOW_TO_GET_REDIS, log);
  const port = options.port ?? (await findFreePort());
  if (await isPortOpen(port)) {
    throw new Error(`port ${port} for the embedded Redis is taken; stop what holds it or set REDIS_URL`);
  }
  mkdirSync(options.dataDir, { recursive: true });
  const pidFile = join(options.dataDir, "redis.pid");
  await stopLeftoverRedis(pidFile, log);
  const persistent = options.persistent ?? true;
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    options.dataDir,
    "--save",
    "",
    "--appendonly",
    persistent ? "yes" : "no",
    "--daemonize",
    "no",
    "--pidfile",
    pidFile,
    "--maxmemory-policy",
    "noeviction",
  ];
  // detached: its own process group, so the terminal's Ctrl-C does not reach it before the apps stop
  const child: ChildProcess = spawn("redis-server", args, {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
    if (output.length > 10_000) output = output.slice(-5_000);
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await isPortOpen(port)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (child.exitCode !== null || !(await isPortOpen(port))) {
    child.kill("SIGKILL");
    throw new Error(`redis-server did not start on port ${port}: ${output.trim().slice(-800)}`);
  }
  log(`[redis] listening on 127.0.0.1:${port} (data in ${options.dataDir})`);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
