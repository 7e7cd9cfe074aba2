/**
 * The GPU servers that workers started, shared through Redis (the team's Redis, under the queue
 * prefix). A GPU worker registers each `python -m distillery_trainer.serve` it starts (address,
 * model, estimated GPU memory, state) and refreshes it with a heartbeat; the studio reads it to
 * route `/v1` requests, asks for a load when a GPU model is not served yet, and marks each
 * request as a use (the workers evict the least recently used model first).
 *
 * Keys (`<prefix>:gpu:…`):
 * - `servers`  hash `<workspaceId>/<modelId>` → JSON GpuServerEntry (stale after `staleMs`
 *   without a heartbeat: a worker that died leaves no live entry behind)
 * - `workers`  hash workerId → JSON GpuWorkerEntry (its budget; stale the same way)
 * - `used`     sorted set `<workspaceId>/<modelId>` → last use (ms)
 * - `loads`    list of load requests (JSON), popped by any GPU worker
 * - `pending:<key>` set NX while a load request waits, so many requests make one load
 *
 * The entry holds the server's key (each serve process gets its own random key): Redis is the
 * studio's own store; the key is never logged nor shown in a response.
 */

/** The commands used here, as ioredis's `call` offers them (no client dependency in this package). */
export interface RedisCaller {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

export type GpuServerState = "loading" | "ready" | "failed";

export interface GpuServerEntry {
  workspaceId: string;
  modelId: string;
  /** `http://host:port` (empty while the process has no port yet) */
  url: string;
  apiKey?: string;
  workerId: string;
  /** estimated GPU memory of the model (weights + KV), bytes */
  bytes: number;
  state: GpuServerState;
  /** why it failed (the serve process's stderr tail) */
  reason?: string;
  /** ms since epoch */
  heartbeatAt: number;
  startedAt: number;
  /** without a heartbeat for this long the entry is gone (the worker's own setting; default the registry's) */
  staleAfterMs?: number;
}

export interface GpuWorkerEntry {
  workerId: string;
  host: string;
  budgetBytes: number;
  heartbeatAt: number;
  staleAfterMs?: number;
}

export interface GpuLoadRequest {
  workspaceId: string;
  modelId: string;
  requestedAt: number;
}

export interface GpuRegistry {
  /** the live entry of a model (null: none, or its worker stopped heartbeating) */
  get(workspaceId: string, modelId: string): Promise<GpuServerEntry | null>;
  /** every live entry (a worker's own, or all) */
  list(workerId?: string): Promise<GpuServerEntry[]>;
  put(entry: GpuServerEntry): Promise<void>;
  /** removes the entry only when it is still this worker's */
  remove(workspaceId: string, modelId: string, workerId: string): Promise<void>;
  putWorker(entry: GpuWorkerEntry): Promise<void>;
  removeWorker(workerId: string): Promise<void>;
  /** GPU workers with a fresh heartbeat */
  workers(): Promise<GpuWorkerEntry[]>;
  /** a use of the model: the least recently used one is evicted first */
  touch(workspaceId: string, modelId: string, at?: number): Promise<void>;
  /** last use (ms), 0 when never used */
  lastUsed(workspaceId: string, modelId: string): Promise<number>;
  /** asks the GPU workers to load the model; false when a request for it is already waiting */
  requestLoad(workspaceId: string, modelId: string): Promise<boolean>;
  /** a load request for the model waits for a worker (or was just taken by one) */
  isLoadPending(workspaceId: string, modelId: string): Promise<boolean>;
  /**
   * The next load request (blocks up to `timeoutS`; null when none came). Needs a connection of
   * its own (BRPOP blocks it). The request's pending mark stays until the worker registers the
   * server (`clearPending`), so the model never looks unloaded in between.
   */
  takeLoadRequest(blocking: RedisCaller, timeoutS: number): Promise<GpuLoadRequest | null>;
  clearPending(workspaceId: string, modelId: string): Promise<void>;
  readonly staleMs: number;
}

export const gpuModelKey = (workspaceId: string, modelId: string) => `${workspaceId}/${modelId}`;

function parseJson<T>(text: unknown): T | null {
  if (typeof text !== "string") return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** A flat HGETALL reply (`[field, value, …]`, or an object from some clients) as pairs. */
function pairs(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) {
    const out: [string, string][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), String(reply[i + 1])]);
    return out;
  }
  if (reply && typeof reply === "object") return Object.entries(reply as Record<string, string>);
  return [];
}

export function createGpuRegistry(
  redis: RedisCaller,
  options: { prefix?: string; staleMs?: number; pendingMs?: number } = {},
): GpuRegistry {
  const p = `${options.prefix ?? "distillery"}:gpu`;
  const staleMs = options.staleMs ?? 15_000;
  // a load request nobody took (no GPU worker alive) stops blocking a new one after this
  const pendingMs = options.pendingMs ?? 60_000;
  const isFresh = (e: { heartbeatAt: number; staleAfterMs?: number }) =>
    Date.now() - e.heartbeatAt <= (e.staleAfterMs ?? staleMs);

  return {
    staleMs,
    async get(workspaceId, modelId) {
      const e = parseJson<GpuServerEntry>(
        await redis.call("HGET", `${p}:servers`, gpuModelKey(workspaceId, modelId)),
      );
      return e && isFresh(e) ? e : null;
    },
    async list(workerId) {
      const out: GpuServerEntry[] = [];
      for (const [, v] of pairs(await redis.call("HGETALL", `${p}:servers`))) {
        const e = parseJson<GpuServerEntry>(v);
        if (e && isFresh(e) && (!workerId || e.workerId === workerId)) out.push(e);
      }
      return out;
    },
    async put(entry) {
      await redis.call(
        "HSET",
        `${p}:servers`,
        gpuModelKey(entry.workspaceId, entry.modelId),
        JSON.stringify(entry),
      );
    },
    async remove(workspaceId, modelId, workerId) {
      const key = gpuModelKey(workspaceId, modelId);
      const e = parseJson<GpuServerEntry>(await redis.call("HGET", `${p}:servers`, key));
      // another worker may have loaded it since: leave that entry alone
      if (e && e.workerId === workerId) await redis.call("HDEL", `${p}:servers`, key);
    },
    async putWorker(entry) {
      await redis.call("HSET", `${p}:workers`, entry.workerId, JSON.stringify(entry));
    },
    async removeWorker(workerId) {
      await redis.call("HDEL", `${p}:workers`, workerId);
    },
    async workers() {
      const out: GpuWorkerEntry[] = [];
      for (const [, v] of pairs(await redis.call("HGETALL", `${p}:workers`))) {
        const e = parseJson<GpuWorkerEntry>(v);
        if (e && isFresh(e)) out.push(e);
      }
      return out;
    },
    async touch(workspaceId, modelId, at = Date.now()) {
      await redis.call("ZADD", `${p}:used`, at, gpuModelKey(workspaceId, modelId));
    },
    async lastUsed(workspaceId, modelId) {
      const s = await redis.call("ZSCORE", `${p}:used`, gpuModelKey(workspaceId, modelId));
      return s == null ? 0 : Number(s);
    },
    async requestLoad(workspaceId, modelId) {
      const key = gpuModelKey(workspaceId, modelId);
      const ok = await redis.call("SET", `${p}:pending:${key}`, "1", "PX", pendingMs, "NX");
      if (ok !== "OK") return false;
      const request: GpuLoadRequest = { workspaceId, modelId, requestedAt: Date.now() };
      await redis.call("LPUSH", `${p}:loads`, JSON.stringify(request));
      return true;
    },
    async isLoadPending(workspaceId, modelId) {
      return Number(await redis.call("EXISTS", `${p}:pending:${gpuModelKey(workspaceId, modelId)}`)) > 0;
    },
    async takeLoadRequest(blocking, timeoutS) {
      const reply = await blocking.call("BRPOP", `${p}:loads`, timeoutS);
      if (!Array.isArray(reply) || reply.length < 2) return null;
      const r = parseJson<GpuLoadRequest>(reply[1]);
      if (!r || typeof r.workspaceId !== "string" || typeof r.modelId !== "string") return null;
      return r;
    },
    async clearPending(workspaceId, modelId) {
      await redis.call("DEL", `${p}:pending:${gpuModelKey(workspaceId, modelId)}`);
    },
  };
}
