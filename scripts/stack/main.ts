import { rmSync } from "node:fs";
import { join } from "node:path";
import { createDb, runMigrations } from "@distillery/db";
import {
  createSupervisor,
  ensureDatabase,
  ensureDebianPackage,
  findFreePort,
  isPortOpen,
  startServices,
} from "@distillery/services";
import { loadOrCreateSecretKeyFile, SECRET_KEY_FILE } from "@distillery/teacher";
import { buildWeb, generatePrismaClient, ROOT, startWeb, startWorker } from "./apps.ts";
import { runCommand } from "./run-command.ts";
import { seedDemoAt } from "./seed-demo.ts";

const MIGRATIONS_DIR = join(ROOT, "prisma/migrations");
const log = (m: string) => console.log(m);

async function portOrFree(preferred: number): Promise<number> {
  return (await isPortOpen(preferred)) ? findFreePort() : preferred;
}

/** Until someone has an account, the first visitor creates the owner: say where. */
async function printFirstStart(databaseUrl: string, url: string) {
  const db = createDb(databaseUrl, { max: 1 });
  try {
    const hasAccount = await db.account.findFirst({
      where: { providerId: "credential" },
      select: { id: true },
    });
    if (!hasAccount)
      log(
        `  First start: open ${url}/setup to create the owner account (or start on this machine in one click).\n`,
      );
  } catch {
    // the web shows the same page; the hint is a convenience
  } finally {
    await db.$disconnect();
  }
}

/** `npm start`: the studio with its services on embedded defaults (or DATABASE_URL / REDIS_URL). */
async function start(args: string[]): Promise<number> {
  const supervisor = createSupervisor(log);
  const stopped = supervisor.waitUntilStopped();
  try {
    const started = Date.now();
    const dataDir = process.env.DISTILLERY_DATA_DIR ?? join(ROOT, ".data");
    await generatePrismaClient();
    const urls = await startServices({
      dataDir,
      supervisor,
      databaseUrl: process.env.DATABASE_URL,
      redisUrl: process.env.REDIS_URL,
      pgPort: await portOrFree(Number(process.env.DISTILLERY_PG_PORT ?? 54329)),
      redisPort: await portOrFree(Number(process.env.DISTILLERY_REDIS_PORT ?? 63799)),
      log,
    });
    const migrated = await runMigrations(urls.databaseUrl, MIGRATIONS_DIR);
    if (migrated.applied.length > 0) log(`[stack] applied migrations: ${migrated.applied.join(", ")}`);
    const env = {
      ...process.env,
      DATABASE_URL: urls.databaseUrl,
      REDIS_URL: urls.redisUrl,
      DISTILLERY_DATA_DIR: dataDir,
      // seals teacher API keys; unset: generated into the data folder on first start, then reused
      DISTILLERY_SECRET_KEY:
        process.env.DISTILLERY_SECRET_KEY ?? loadOrCreateSecretKeyFile(join(dataDir, SECRET_KEY_FILE)),
    };
    if (process.env.DISTILLERY_SEED_DEMO !== "0") {
      await seedDemoAt({ ...urls, dataDir, queuePrefix: process.env.QUEUE_PREFIX }, log).catch((e: Error) =>
        log(`[demo] could not seed the demo: ${e.message}`),
      );
    }
    if (!args.includes("--no-build")) await buildWeb(env);
    startWorker(supervisor, env);
    const port = Number(process.env.PORT ?? 3000);
    const url = await startWeb(supervisor, env, port);
    log(
      `\n  Distillery is running at ${url}  (started in ${((Date.now() - started) / 1000).toFixed(1)} s; Ctrl-C stops everything)\n`,
    );
    await printFirstStart(urls.databaseUrl, url);
  } catch (e) {
    log(`[stack] cannot start: ${(e as Error).message}`);
    await supervisor.stopAll(1);
  }
  return stopped;
}

/** `npm test`: throwaway services, every workspace's tests, then Playwright against the real stack. */
async function test(args: string[]): Promise<number> {
  const supervisor = createSupervisor(log);
  const stopped = supervisor.waitUntilStopped();
  let code = 0;
  try {
    const started = Date.now();
    await generatePrismaClient();
    const dataDir = join(ROOT, ".data", `test-${process.pid}`);
    const urls = await startServices({ dataDir, supervisor, isEphemeral: true, log });
    const adminUrl = urls.adminDatabaseUrl ?? urls.databaseUrl;
    const env = {
      ...process.env,
      TEST_ADMIN_DATABASE_URL: adminUrl,
      TEST_REDIS_URL: urls.redisUrl,
      TURBO_TELEMETRY_DISABLED: "1",
    };
    if (!args.includes("--e2e-only")) {
      // Debian's python3-torch for the engine's PyTorch parity test (skips with a reason if it cannot)
      await runCommand("sh", [join(ROOT, "packages/engine-local/scripts/setup-test-deps.sh")], { cwd: ROOT });
      // Debian's python3-jinja2 for the chat-template parity test (which fails, naming it, without it)
      await runCommand("sh", [join(ROOT, "packages/core/scripts/setup-test-deps.sh")], { cwd: ROOT });
      code = await runCommand(
        process.execPath,
        [
          join(ROOT, "node_modules/turbo/bin/turbo"),
          "run",
          "test",
          "--concurrency=1",
          "--continue",
          "--env-mode=loose",
          "--output-logs=full",
        ],
        { cwd: ROOT, env },
      );
      log(
        `[stack] unit and integration tests ${code === 0 ? "passed" : "FAILED"} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
    }
    if ((code === 0 || args.includes("--keep-going")) && !args.includes("--no-e2e")) {
      ensureDebianPackage(
        "/usr/bin/chromium",
        "chromium",
        "Install Chromium: `sudo apt-get install chromium`.",
        log,
      );
      const e2eDatabase = await ensureDatabase(adminUrl, "distillery_e2e");
      const hubPort = await findFreePort();
      await runMigrations(e2eDatabase, MIGRATIONS_DIR);
      const appEnv = {
        ...process.env,
        DATABASE_URL: e2eDatabase,
        REDIS_URL: urls.redisUrl,
        DISTILLERY_DATA_DIR: join(dataDir, "app"),
        QUEUE_PREFIX: "e2e",
        WORKER_HEARTBEAT_MS: "1000",
        WORKER_OFFLINE_AFTER_MS: "4000",
        RUN_STALE_AFTER_MS: "6000",
        // specs serve the Hub's routes on this port (packages/catalog's hub test server): the
        // studio downloads models from it as it would from huggingface.co
        HF_ENDPOINT: `http://127.0.0.1:${hubPort}`,
        E2E_HUB_PORT: String(hubPort),
      };
      await buildWeb(appEnv);
      startWorker(supervisor, appEnv);
      const port = await findFreePort();
      const baseUrl = await startWeb(supervisor, appEnv, port);
      const e2eCode = await runCommand(
        process.execPath,
        // `npm test -- --e2e-only --e2e-grep=<pattern>` runs only the matching specs
        [
          join(ROOT, "node_modules/@playwright/test/cli.js"),
          "test",
          ...args
            .filter((a) => a.startsWith("--e2e-grep="))
            .map((a) => `--grep=${a.slice("--e2e-grep=".length)}`),
        ],
        {
          cwd: join(ROOT, "e2e"),
          env: { ...appEnv, BASE_URL: baseUrl, E2E_DATABASE_URL: e2eDatabase },
        },
      );
      log(`[stack] end-to-end tests ${e2eCode === 0 ? "passed" : "FAILED"}`);
      code = code || e2eCode;
    }
    log(`[stack] npm test finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } catch (e) {
    log(`[stack] tests could not run: ${(e as Error).stack ?? e}`);
    code = 1;
  }
  await supervisor.stopAll(code);
  await stopped;
  rmSync(join(ROOT, ".data", `test-${process.pid}`), { recursive: true, force: true });
  return code;
}

const [mode = "start", ...rest] = process.argv.slice(2);
const run = mode === "test" ? test : start;
run(rest).then((code) => process.exit(code));
