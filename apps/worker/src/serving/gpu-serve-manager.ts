import { randomBytes } from "node:crypto";
import {
  type GpuLoadRequest,
  type GpuRegistry,
  type GpuServerEntry,
  gpuModelKey,
} from "@distillery/inference";
import type { HfCommand } from "@distillery/trainer-hf";
import { findFreePort, type ServeProcess, startServeProcess, waitUntilListed } from "./serve-process.ts";

/** What a model needs to be served: its files and its estimated GPU memory. */
export interface ServeTarget {
  modelDir: string;
  adapterDir?: string;
  bytes: number;
}

export interface GpuServeManagerOptions {
  registry: GpuRegistry;
  workerId: string;
  /** the address the servers bind */
  bindHost: string;
  /** the host the studio reaches them on (the bind host unless that is 0.0.0.0) */
  advertiseHost: string;
  /** models on this worker's GPU stay within this; the least recently used idle one goes first */
  budgetBytes: number;
  /** the files of a workspace's model (throws when it is unknown) */
  resolve: (workspaceId: string, modelId: string) => Promise<ServeTarget>;
  /** the serve command (buildHfServeCommand); the key goes in its env */
  buildCommand: (o: {
    modelDir: string;
    adapterDir?: string;
    servedName: string;
    host: string;
    port: number;
    apiKey: string;
    /** the model's estimated GPU memory (what the budget counts for it) */
    bytes: number;
  }) => HfCommand;
  /** a server nobody used for this long is stopped */
  idleTtlMs: number;
  /** readers drop an entry without a heartbeat for this long (a few of this worker's heartbeats) */
  staleAfterMs?: number;
  /** how long a model may take to load before it is marked failed */
  readyTimeoutMs?: number;
  /** a server that dies after it was ready is started again this many times, then marked failed */
  maxRestarts?: number;
  /** a load that needs the room of servers busy with requests waits this long for them, then fails */
  busyWaitMs?: number;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

interface Managed {
  key: string;
  workspaceId: string;
  modelId: string;
  target: ServeTarget;
  url: string;
  apiKey: string;
  state: "loading" | "ready";
  startedAt: number;
  readyAt: number;
  restarts: number;
  proc?: ServeProcess;
  isStopping: boolean;
  /** settles when the current start has ended (ready, failed or stopped) */
  started: Promise<void>;
}

export interface GpuServeManager {
  /** starts a server for the model (evicting within the budget first); resolves once it is ready, failed or stopped */
  load(request: Pick<GpuLoadRequest, "workspaceId" | "modelId">): Promise<void>;
  /** heartbeat of every live server, and idle ones stopped */
  tick(): Promise<void>;
  /** this worker's servers now */
  list(): { modelId: string; workspaceId: string; state: "loading" | "ready"; bytes: number; url: string }[];
  close(): Promise<void>;
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;

/** the last lines of a stderr tail, with the server's key masked should it ever appear */
function tailOf(stderr: string, apiKey: string): string {
  const text = apiKey ? stderr.split(apiKey).join("***") : stderr;
  const lines = text.trim().split("\n").slice(-8).join("\n");
  return lines.slice(-1_500) || "(no output)";
}

/**
 * The serve processes of one GPU worker: a load request starts `python -m distillery_trainer.serve`
 * for the model on a free port with its own random key, registers it as loading, waits for its
 * /v1/models to list the model, then registers it ready. Every tick refreshes the entries
 * (heartbeat) and stops servers idle for longer than the TTL. A server that dies is started
 * again (up to `maxRestarts`), else marked failed with its stderr tail; a failed entry is not
 * refreshed, so it goes stale and a later request may try again.
 */
export function createGpuServeManager(o: GpuServeManagerOptions): GpuServeManager {
  const servers = new Map<string, Managed>();
  const readyTimeoutMs = o.readyTimeoutMs ?? 15 * 60_000;
  const maxRestarts = o.maxRestarts ?? 1;
  // admissions (room made, memory counted) one at a time, so two loads never take the same room
  let admitting: Promise<unknown> = Promise.resolve();

  const entryOf = (m: Managed): GpuServerEntry => ({
    workspaceId: m.workspaceId,
    modelId: m.modelId,
    url: m.url,
    apiKey: m.apiKey,
    workerId: o.workerId,
    bytes: m.target.bytes,
    state: m.state,
    heartbeatAt: Date.now(),
    startedAt: m.startedAt,
    ...(o.staleAfterMs ? { staleAfterMs: o.staleAfterMs } : {}),
  });

  async function markFailed(
    at: { workspaceId: string; modelId: string; bytes: number },
    reason: string,
  ): Promise<void> {
    o.log("error", `[serving] ${at.modelId}: ${reason}`);
    await o.registry
      .put({
        workspaceId: at.workspaceId,
        modelId: at.modelId,
        url: "",
        workerId: o.workerId,
        bytes: at.bytes,
        state: "failed",
        reason,
        heartbeatAt: Date.now(),
        startedAt: Date.now(),
      })
      .catch(() => {});
  }

  async function stopServer(m: Managed, why: string): Promise<void> {
    if (m.isStopping) return;
    m.isStopping = true;
    if (servers.get(m.key) === m) servers.delete(m.key);
    o.log("info", `[serving] stopping ${m.modelId} (${gib(m.target.bytes)}): ${why}`);
    await o.registry.remove(m.workspaceId, m.modelId, o.workerId).catch(() => {});
    await m.proc?.stop();
  }

  /** still this worker's live server (a heartbeat must not bring back one that failed or stopped) */
  const isLive = (m: Managed) => servers.get(m.key) === m && !m.isStopping;
  const used = () => [...servers.values()].reduce((s, m) => s + m.target.bytes, 0);

  /**
   * Sequences the server is decoding now (its /health `active`; vLLM's /health says nothing: 0),
   * so that an eviction never cuts off a request in flight.
   */
  async function activeOf(m: Managed): Promise<number> {
    try {
      const res = await fetch(`${m.url}/health`, {
        headers: { authorization: `Bearer ${m.apiKey}` },
        signal: AbortSignal.timeout(2_000),
      });
      const body = (await res.json().catch(() => ({}))) as { active?: unknown };
      return typeof body.active === "number" ? body.active : 0;
    } catch {
      return 0; // not answering: nothing to protect
    }
  }

  /**
   * Evicts idle ready servers, least recently used first, until `bytes` fits; a busy one is left
   * alone, and the load waits for it (up to `busyWaitMs`). The reason when it cannot fit.
   */
  async function makeRoom(bytes: number): Promise<string | null> {
    const deadline = Date.now() + (o.busyWaitMs ?? 60_000);
    for (;;) {
      if (used() + bytes <= o.budgetBytes) return null;
      const ready = [...servers.values()].filter((m) => m.state === "ready" && !m.isStopping);
      const byUse = await Promise.all(
        ready.map(async (m) => ({
          m,
          at: Math.max(await o.registry.lastUsed(m.workspaceId, m.modelId).catch(() => 0), m.readyAt),
        })),
      );
      byUse.sort((a, b) => a.at - b.at);
      let busy = 0;
      for (const { m } of byUse) {
        if (used() + bytes <= o.budgetBytes) break;
        if ((await activeOf(m)) > 0) {
          busy++;
          continue;
        }
        await stopServer(m, "evicted: least recently used, to load another model within the GPU budget");
      }
      if (used() + bytes <= o.budgetBytes) return null;
      if (!busy || Date.now() >= deadline)
        return `needs ${gib(bytes)} of GPU memory and ${gib(used())} of this worker's ${gib(o.budgetBytes)} is held by models ${busy ? "answering requests" : "still loading"}`;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  function onExit(m: Managed, proc: ServeProcess, exit: Awaited<ServeProcess["exited"]>) {
    if (m.isStopping || m.proc !== proc || exit.wasStopped) return;
    const how = exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.code}`;
    const tail = tailOf(exit.stderrTail, m.apiKey);
    if (m.state === "ready" && m.restarts < maxRestarts) {
      m.restarts++;
      o.log(
        "warn",
        `[serving] ${m.modelId}: its serve process ${how}; starting it again (${m.restarts}/${maxRestarts}): ${tail}`,
      );
      m.started = start(m);
      return;
    }
    servers.delete(m.key);
    m.isStopping = true; // gone: no heartbeat may write it back over the failed entry
    void markFailed(
      { ...m, bytes: m.target.bytes },
      `its serve process ${how}${m.state === "loading" ? " while loading the model" : ""}: ${tail}`,
    );
  }

  async function start(m: Managed): Promise<void> {
    try {
      const port = await findFreePort(o.bindHost);
      m.url = `http://${o.advertiseHost}:${port}`;
      m.apiKey = randomBytes(24).toString("base64url");
      m.state = "loading";
      m.startedAt = Date.now();
      await o.registry.put(entryOf(m));
      const command = o.buildCommand({
        modelDir: m.target.modelDir,
        ...(m.target.adapterDir ? { adapterDir: m.target.adapterDir } : {}),
        servedName: m.modelId,
        host: o.bindHost,
        port,
        apiKey: m.apiKey,
        bytes: m.target.bytes,
      });
      const proc = startServeProcess(command, m.url, (line) => o.log("info", `[serve ${m.modelId}] ${line}`));
      m.proc = proc;
      void proc.exited.then((exit) => onExit(m, proc, exit));
      const isListed = await waitUntilListed(proc, m.modelId, m.apiKey, readyTimeoutMs);
      if (m.isStopping || m.proc !== proc) return;
      if (!isListed) {
        if (proc.isExited()) return; // onExit says why
        servers.delete(m.key);
        m.isStopping = true;
        await proc.stop();
        await markFailed(
          { ...m, bytes: m.target.bytes },
          `did not list the model on /v1/models within ${Math.round(readyTimeoutMs / 1000)} s`,
        );
        return;
      }
      m.state = "ready";
      m.readyAt = Date.now();
      await o.registry.put(entryOf(m));
      o.log(
        "info",
        `[serving] ${m.modelId} ready on ${m.url} (${gib(m.target.bytes)}, in ${((Date.now() - m.startedAt) / 1000).toFixed(1)} s)`,
      );
    } catch (e) {
      servers.delete(m.key);
      m.isStopping = true;
      await m.proc?.stop();
      await markFailed({ ...m, bytes: m.target.bytes }, `could not start: ${(e as Error).message}`);
    }
  }

  return {
    async load({ workspaceId, modelId }) {
      const key = gpuModelKey(workspaceId, modelId);
      const admitted = admitting.then(async (): Promise<Managed | null> => {
        const have = servers.get(key);
        if (have) return have;
        let target: ServeTarget;
        try {
          target = await o.resolve(workspaceId, modelId);
        } catch (e) {
          await markFailed({ workspaceId, modelId, bytes: 0 }, (e as Error).message);
          return null;
        }
        if (target.bytes > o.budgetBytes) {
          await markFailed(
            { workspaceId, modelId, bytes: target.bytes },
            `needs ${gib(target.bytes)} of GPU memory; this worker's budget is ${gib(o.budgetBytes)}`,
          );
          return null;
        }
        const noRoom = await makeRoom(target.bytes);
        if (noRoom) {
          await markFailed({ workspaceId, modelId, bytes: target.bytes }, noRoom);
          return null;
        }
        const m: Managed = {
          key,
          workspaceId,
          modelId,
          target,
          url: "",
          apiKey: "",
          state: "loading",
          startedAt: Date.now(),
          readyAt: 0,
          restarts: 0,
          isStopping: false,
          started: Promise.resolve(),
        };
        servers.set(key, m);
        // listed as loading from now on (before the load request's pending mark is cleared)
        await o.registry.put(entryOf(m)).catch(() => {});
        o.log(
          "info",
          `[serving] loading ${modelId} (${gib(target.bytes)}; ${gib(used())} of ${gib(o.budgetBytes)} in use)`,
        );
        m.started = start(m);
        return m;
      });
      admitting = admitted.catch(() => {});
      const m = await admitted.finally(() => o.registry.clearPending(workspaceId, modelId).catch(() => {}));
      if (!m) return;
      if (isLive(m)) await o.registry.put(entryOf(m)).catch(() => {}); // a repeated request: announce it again
      await m.started;
    },
    async tick() {
      const now = Date.now();
      for (const m of [...servers.values()]) {
        if (m.isStopping) continue;
        if (m.state === "ready") {
          const last = Math.max(
            await o.registry.lastUsed(m.workspaceId, m.modelId).catch(() => now),
            m.readyAt,
          );
          if (now - last > o.idleTtlMs) {
            await stopServer(m, `idle for ${Math.round((now - last) / 1000)} s`);
            continue;
          }
        }
        // it may have died or been evicted while this tick waited
        if (isLive(m)) await o.registry.put(entryOf(m));
      }
    },
    list() {
      return [...servers.values()].map((m) => ({
        modelId: m.modelId,
        workspaceId: m.workspaceId,
        state: m.state,
        bytes: m.target.bytes,
        url: m.url,
      }));
    },
    async close() {
      await Promise.all([...servers.values()].map((m) => stopServer(m, "the worker is shutting down")));
    },
  };
}
