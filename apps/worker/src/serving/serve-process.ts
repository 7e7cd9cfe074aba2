import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { HfCommand } from "@distillery/trainer-hf";
import { type EngineExit, spawnEngine } from "../runs/spawn-engine.ts";

/** One `python -m distillery_trainer.serve` process (its own process group, stopped as a whole). */
export interface ServeProcess {
  url: string;
  /** resolves when the process is gone (stopped or died), with its stderr tail */
  exited: Promise<EngineExit>;
  isExited(): boolean;
  stop(): Promise<EngineExit>;
}

/** A port free now on `host` (the serve process binds it a moment later). */
export async function findFreePort(host: string): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.listen(0, host, resolve);
  });
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Starts the serve command without a shell (spawnEngine: its own process group, SIGTERM then
 * SIGKILL, the stderr tail kept). The server's key travels in `command.env`, never in argv.
 */
export function startServeProcess(
  command: HfCommand,
  url: string,
  onOutput: (line: string) => void,
): ServeProcess {
  const stopper = new AbortController();
  let isDone = false;
  const exited = spawnEngine(
    { command: command.command, args: command.args, env: command.env },
    // serve prints no events: whatever comes on stdout is logged
    { onEvent: () => {}, onBadLine: (line) => onOutput(line) },
    { signal: stopper.signal, graceMs: 10_000 },
  )
    .catch((e: Error): EngineExit => ({ code: null, signal: null, stderrTail: e.message, wasStopped: false }))
    .finally(() => {
      isDone = true;
    });
  return {
    url,
    exited,
    isExited: () => isDone,
    stop() {
      stopper.abort();
      return exited;
    },
  };
}

/**
 * Waits until the server lists `modelId` on GET /v1/models (its model loaded), the process
 * exits (false), or `timeoutMs` passes (false).
 */
export async function waitUntilListed(
  proc: ServeProcess,
  modelId: string,
  apiKey: string,
  timeoutMs: number,
  intervalMs = 250,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!proc.isExited() && Date.now() < deadline) {
    try {
      const res = await fetch(`${proc.url}/v1/models`, {
        headers: { authorization: `Bearer ${apiKey}` },
        signal: AbortSignal.timeout(2_000),
      });
      if (res.ok) {
        const body = (await res.json()) as { data?: { id?: unknown }[] };
        if (body.data?.some((m) => m?.id === modelId)) return true;
      } else await res.body?.cancel();
    } catch {
      // not listening yet
    }
    await Promise.race([new Promise((r) => setTimeout(r, intervalMs)), proc.exited]);
  }
  return false;
}
