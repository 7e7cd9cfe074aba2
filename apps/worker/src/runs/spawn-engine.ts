import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { type EngineEvent, parseEventLine } from "@distillery/core";

const WATCHDOG = pathToFileURL(join(import.meta.dirname, "parent-watchdog.mjs")).href;

export interface EngineCommand {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
  /** true when we stopped it (cancel, lost lease, shutdown) */
  wasStopped: boolean;
}

/**
 * Runs an engine as a child process without a shell and reads its stdout as event lines.
 * A line that is not a valid event is passed to `onBadLine` (the engine printed something
 * else), never dropped silently. Abort sends SIGTERM, then SIGKILL after `graceMs`.
 */
export function spawnEngine(
  cmd: EngineCommand,
  handlers: { onEvent: (e: EngineEvent) => void; onBadLine: (line: string, error: string) => void },
  options: { signal: AbortSignal; graceMs?: number },
): Promise<EngineExit> {
  // Node engines get a watchdog that ends them if this worker dies (see parent-watchdog.mjs).
  const args = cmd.command === process.execPath ? ["--import", WATCHDOG, ...cmd.args] : cmd.args;
  const child = spawn(cmd.command, args, {
    cwd: cmd.cwd,
    env: { ...process.env, ...cmd.env, DISTILLERY_PARENT_PID: String(process.pid) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stderrTail = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => {
    stderrTail = (stderrTail + d).slice(-4_000);
  });
  const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("line", (line) => {
    if (line.trim() === "") return;
    const parsed = parseEventLine(line);
    if (parsed.ok) handlers.onEvent(parsed.event);
    else handlers.onBadLine(line.slice(0, 2_000), parsed.error);
  });
  let wasStopped = false;
  let killTimer: NodeJS.Timeout | undefined;
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  };
  const onAbort = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    wasStopped = true;
    signalGroup("SIGTERM");
    killTimer = setTimeout(() => signalGroup("SIGKILL"), options.graceMs ?? 5_000);
  };
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener("abort", onAbort, { once: true });
  return new Promise((resolve, reject) => {
    child.once("error", (e) => reject(new Error(`cannot start engine ${cmd.command}: ${e.message}`)));
    // wait for stdout to drain as well as for the exit, so no final event is lost
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let isClosed = false;
    const settle = () => {
      if (!exited || !isClosed) return;
      if (killTimer) clearTimeout(killTimer);
      options.signal.removeEventListener("abort", onAbort);
      resolve({ ...exited, stderrTail, wasStopped });
    };
    lines.once("close", () => {
      isClosed = true;
      settle();
    });
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      settle();
    });
  });
}
