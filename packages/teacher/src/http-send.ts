import { channel } from "node:diagnostics_channel";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Agent as UndiciAgent } from "undici";
import { guardedLookup, isBlockedTeacherIp } from "./teacher-address.ts";

/**
 * One pooled keep-alive agent per protocol for the one-off teacher requests (`sendRequest`);
 * the generation loop's chat requests go through undici's pool (`sendPooled`, below).
 */
const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: "lifo" }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: "lifo" }),
};

interface Target {
  url: URL;
  origin: string;
  path: string;
  isHttps: boolean;
  blocked: boolean;
  allow: string | undefined;
}
/** A URL parsed and its address checked once per URL (a job sends thousands to one). */
const targets = new Map<string, Target>();
function target(url: string): Target {
  const allow = process.env.DISTILLERY_TEACHER_ALLOW_LINK_LOCAL;
  let t = targets.get(url);
  if (!t) {
    const u = new URL(url);
    if (targets.size >= 256) targets.clear();
    t = {
      url: u,
      origin: u.origin,
      path: `${u.pathname}${u.search}`,
      isHttps: u.protocol === "https:",
      blocked: isBlockedTeacherIp(u.hostname),
      allow,
    };
    targets.set(url, t);
  } else if (t.allow !== allow) {
    t.blocked = isBlockedTeacherIp(t.url.hostname);
    t.allow = allow;
  }
  return t;
}

/**
 * Sends a request; resolves with the response once its headers arrive. An abort of `signal`
 * destroys the request and its response (one listener, removed when the request closes: not
 * node's `signal` option, whose stream plumbing cost more than the rest of the send).
 */
export function sendRequest(
  url: string,
  options: {
    method: "GET" | "POST";
    headers: Record<string, string>;
    body?: string;
    signal: AbortSignal;
    /** called once the whole request has been handed to the OS */
    onSent?: () => void;
  },
): Promise<IncomingMessage> {
  const t = target(url);
  // an IP literal is connected to without a lookup: checked here
  if (t.blocked)
    return Promise.reject(
      Object.assign(new Error(`${t.url.hostname} is a link-local / cloud metadata address`), {
        code: "ETEACHERADDRESS",
      }),
    );
  const signal = options.signal;
  if (signal.aborted)
    return Promise.reject(Object.assign(new Error("The operation was aborted"), { name: "AbortError" }));
  const body = options.body === undefined ? undefined : Buffer.from(options.body, "utf8");
  const headers = body ? { ...options.headers, "content-length": String(body.length) } : options.headers;
  return new Promise((resolve, reject) => {
    const req = (t.isHttps ? httpsRequest : httpRequest)(
      t.url,
      {
        method: options.method,
        headers,
        agent: t.isHttps ? agents.https : agents.http,
        // never connects to a link-local / cloud metadata address, whatever the name resolves to
        lookup: guardedLookup,
      },
      resolve,
    );
    const onAbort = () =>
      req.destroy(Object.assign(new Error("The operation was aborted"), { name: "AbortError" }));
    signal.addEventListener("abort", onAbort, { once: true });
    req.once("close", () => signal.removeEventListener("abort", onAbort));
    req.on("error", reject);
    if (options.onSent) req.once("finish", options.onSent);
    req.end(body);
  });
}

/** The whole body as text. */
export async function readText(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of res) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

/**
 * The chat requests' keep-alive pool (undici): a generation job streams one answer per request
 * at up to its concurrency, and undici's client costs about half of node:http's CPU a request
 * (bench:teacher, side by side at load 10-12: loop CPU 0.78-0.92 vs 1.32-1.47 ms, own p95 51-78
 * vs 112-168 ms). Its one cost: an idle keep-alive socket is reused only after a setImmediate
 * (undici's check for bytes a server sent unasked), so a slot's next request leaves after the
 * answers read in the same turn of the event loop (slot free → sent p50 ~3 ms there, 0.4 ms
 * with node:http). No cap on connections per origin: the job's concurrency is the cap. The same
 * guarded lookup: never a link-local / cloud metadata address.
 */
const pool = new UndiciAgent({
  connections: null,
  pipelining: 1,
  keepAliveTimeout: 30_000,
  connect: { lookup: guardedLookup },
});

export interface PooledResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** the body: read it to the end (the connection goes back to the pool) or destroy it */
  body: AsyncIterable<Uint8Array> & {
    destroy(error?: Error): unknown;
    text(): Promise<string>;
    on(event: "error", listener: (e: Error) => void): unknown;
  };
}

const ignore = () => {};
/** Drops a body not read to the end, and its connection (its abort error goes nowhere). */
export function dropBody(res: PooledResponse | undefined) {
  if (!res) return;
  res.body.on("error", ignore);
  res.body.destroy();
}

// `onSent`: undici says when a request has been written through its diagnostics channels, only
// watched once someone asks (the benchmark)
let isWatchingSent = false;
let lastCreated: object | null = null;
const sentCallbacks = new WeakMap<object, () => void>();
const sentEarly = new WeakSet<object>();
function watchSent() {
  if (isWatchingSent) return;
  isWatchingSent = true;
  channel("undici:request:create").subscribe((m) => {
    lastCreated = (m as { request: object }).request;
  });
  channel("undici:request:bodySent").subscribe((m) => {
    const r = (m as { request: object }).request;
    const cb = sentCallbacks.get(r);
    if (cb) {
      sentCallbacks.delete(r);
      cb();
    } else sentEarly.add(r);
  });
}

/**
 * Sends a request through the pool; resolves once its headers arrive. `idleTimeoutMs`: no byte
 * for this long, before the headers or between body chunks, fails it (undici's headers and body
 * timeouts: no timer of ours per request or chunk).
 */
export function sendPooled(
  url: string,
  options: {
    method: "GET" | "POST";
    headers: Record<string, string>;
    body?: string;
    signal?: AbortSignal;
    idleTimeoutMs: number;
    /** called once the whole request has been written to the socket */
    onSent?: () => void;
  },
): Promise<PooledResponse> {
  const t = target(url);
  // an IP literal is connected to without a lookup: checked here
  if (t.blocked)
    return Promise.reject(
      Object.assign(new Error(`${t.url.hostname} is a link-local / cloud metadata address`), {
        code: "ETEACHERADDRESS",
      }),
    );
  const onSent = options.onSent;
  if (onSent) {
    watchSent();
    lastCreated = null;
  }
  const sent = pool.request({
    origin: t.origin,
    path: t.path,
    method: options.method,
    headers: options.headers,
    body: options.body ?? null,
    signal: options.signal ?? null,
    headersTimeout: options.idleTimeoutMs,
    bodyTimeout: options.idleTimeoutMs,
  }) as Promise<PooledResponse>;
  if (onSent && lastCreated) {
    // written at once on a free connection (before this line), or later
    if (sentEarly.has(lastCreated)) onSent();
    else sentCallbacks.set(lastCreated, onSent);
  }
  return sent;
}
