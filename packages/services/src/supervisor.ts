import { type ChildProcess, spawn } from "node:child_process";

type Stopper = { name: string; stop: () => Promise<void> };

const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 30_000;
/** an app that stayed up this long (past its start) starts its backoff over: a crash loop dies sooner */
const RESTART_RESET_AFTER_MS = 10_000;

/** An app under the supervisor: `child` is the current process (a new one after each restart). */
export interface AppHandle {
  name: string;
  readonly child: ChildProcess;
  readonly restarts: number;
  readonly lastExit: { reason: string; at: string } | undefined;
  isRunning(): boolean;
}

/**
 * Owns every process `npm start` / `npm test` starts: services and apps. Restarts an app that
 * dies; stops everything in reverse order (apps, then Redis, then PostgreSQL) on Ctrl-C,
 * SIGTERM or a failed start, so nothing is left behind.
 */
export function createSupervisor(log: (message: string) => void = console.log) {
  const stoppers: Stopper[] = [];
  let isStopping = false;
  let onStopped: ((code: number) => void) | undefined;

  async function stopAll(code = 0): Promise<void> {
    if (isStopping) return;
    isStopping = true;
    for (const s of [...stoppers].reverse()) {
      try {
        await s.stop();
        log(`[supervisor] stopped ${s.name}`);
      } catch (e) {
        log(`[supervisor] stopping ${s.name} failed: ${(e as Error).message}`);
      }
    }
    onStopped?.(code);
  }

  const handleSignal = (signal: NodeJS.Signals) => {
    log(`[supervisor] ${signal}: stopping everything`);
    void stopAll(signal === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", handleSignal);
  process.on("SIGTERM", handleSignal);
  process.on("SIGHUP", handleSignal);

  return {
    add(name: string, stop: () => Promise<void>) {
      stoppers.push({ name, stop });
    },
    /**
     * Spawns an app (no shell) in its own process group and prefixes its output. An app that
     * exits while the supervisor is not stopping is restarted with backoff (1 s, doubling to
     * 30 s; back to 1 s after 10 s up), and the others keep running: only Ctrl-C, SIGTERM
     * or stopAll() stop everything. The restarted app learns its restart count and the last
     * exit from DISTILLERY_RESTARTS / DISTILLERY_LAST_EXIT / DISTILLERY_LAST_EXIT_AT (the worker
     * shows them on the Workers page).
     */
    spawnApp(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): AppHandle {
      let restarts = 0;
      let lastExit: { reason: string; at: string } | undefined;
      let child: ChildProcess;
      let exited: Promise<void>;
      let restartTimer: NodeJS.Timeout | undefined;
      let backoffMs = RESTART_MIN_MS;
      const launch = () => {
        const startedAt = Date.now();
        const appEnv = lastExit
          ? {
              ...env,
              DISTILLERY_RESTARTS: String(restarts),
              DISTILLERY_LAST_EXIT: lastExit.reason,
              DISTILLERY_LAST_EXIT_AT: lastExit.at,
            }
          : env;
        child = spawn(command, args, { env: appEnv, cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
        const prefix = (chunk: Buffer) => {
          for (const line of chunk.toString().split("\n")) if (line.length > 0) log(`[${name}] ${line}`);
        };
        child.stdout?.on("data", prefix);
        child.stderr?.on("data", prefix);
        child.on("error", (e) => log(`[supervisor] cannot start ${name}: ${e.message}`));
        exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
        child.once("close", (code, signal) => {
          if (isStopping) return;
          if (Date.now() - startedAt > RESTART_RESET_AFTER_MS) backoffMs = RESTART_MIN_MS;
          const reason = signal ?? `exit code ${code}`;
          lastExit = { reason, at: new Date().toISOString() };
          restarts++;
          log(
            `[supervisor] ${name} exited (${reason}); restarting it in ${backoffMs / 1000} s (restart ${restarts}); the rest keeps running`,
          );
          restartTimer = setTimeout(() => {
            restartTimer = undefined;
            if (!isStopping) launch();
          }, backoffMs);
          backoffMs = Math.min(backoffMs * 2, RESTART_MAX_MS);
        });
      };
      launch();
      stoppers.push({
        name,
        stop: async () => {
          if (restartTimer) clearTimeout(restartTimer);
          if (child.exitCode !== null || child.signalCode !== null) return;
          // the app runs in its own process group: signal the whole group (next's children too)
          const kill = (sig: NodeJS.Signals) => {
            try {
              if (child.pid) process.kill(-child.pid, sig);
            } catch {
              child.kill(sig);
            }
          };
          kill("SIGTERM");
          const timer = setTimeout(() => kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(timer);
        },
      });
      return {
        name,
        get child() {
          return child;
        },
        get restarts() {
          return restarts;
        },
        get lastExit() {
          return lastExit;
        },
        isRunning: () => child.exitCode === null && child.signalCode === null,
      };
    },
    stopAll,
    /** Resolves with the exit code once everything has stopped. */
    waitUntilStopped(): Promise<number> {
      return new Promise((resolve) => {
        onStopped = resolve;
      });
    },
  };
}
export type Supervisor = ReturnType<typeof createSupervisor>;
