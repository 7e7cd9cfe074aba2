import { type ChildProcess, spawn } from "node:child_process";

type Stopper = { name: string; stop: () => Promise<void> };

/**
 * Owns every process `npm start` / `npm test` starts: services and apps. Stops them in reverse
 * order on Ctrl-C, SIGTERM, a failed start or when any app exits, so nothing is left behind.
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
    /** Spawns an app (no shell), prefixes its output, and stops everything if it exits. */
    spawnApp(
      name: string,
      command: string,
      args: string[],
      env: NodeJS.ProcessEnv,
      cwd?: string,
    ): ChildProcess {
      const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
      const prefix = (chunk: Buffer) => {
        for (const line of chunk.toString().split("\n")) if (line.length > 0) log(`[${name}] ${line}`);
      };
      child.stdout?.on("data", prefix);
      child.stderr?.on("data", prefix);
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.once("exit", (code, signal) => {
        if (!isStopping) {
          log(`[supervisor] ${name} exited (${signal ?? code}); stopping everything`);
          void stopAll(code ?? 1);
        }
      });
      stoppers.push({
        name,
        stop: async () => {
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
      return child;
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
