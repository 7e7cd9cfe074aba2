import { channel } from "node:diagnostics_channel";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Agent as UndiciAgent } from "undici";
import { guardedLookup, isBlockedTeacherIp } from "./teacher-address.ts";

/**
 * One pooled keep-alive agent per protocol for every teacher request. node:http rather than
 * fetch: the loop streams hundreds of chunks a request, and Node's readable streams cost far
 * less per chunk than fetch's web streams (bench:teacher).
 */
const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: "lifo" }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: "lifo" }),
};

/** Sends a request; resolves with the response once its headers arrive. */
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
  const u = new URL(url);
  const isHttps = u.protocol === "https:";
  // an IP literal is connected to without a lookup: checked here
  if (isBlockedTeacherIp(u.hostname))
    return Promise.reject(
      Object.assign(new Error(`${u.hostname} is a link-local / cloud metadata address`), {
        code: "ETEACHERADDRESS",
      }),
    );
  const body = options.body === undefined ? undefined : Buffer.from(options.body, "utf8");
  return new Promise((resolve, reject) => {
    const req = (isHttps ? httpsRequest : httpRequest)(
      u,
      {
        method: options.method,
        headers: { ...options.headers, ...(body ? { "content-length": String(body.length) } : {}) },
        agent: isHttps ? agents.https : agents.http,
        // never connects to a link-local / cloud metadata address, whatever the name resolves to
        lookup: guardedLookup,
        signal: options.signal,
      },
      resolve,
    );
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
 * at up to its concurrency, and undici's client costs about half of node:http's per request
 * (bench:teacher). No cap on connections per origin: the job's concurrency is the cap. The same
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

/** A URL's origin and path, parsed once per URL (a job sends thousands to one). */
const targets = new Map<
  string,
  { origin: string; path: string; hostname: string; blocked: boolean; allow: string | undefined }
>();
function target(url: string) {
  let t = targets.get(url);
  const allow = process.env.DISTILLERY_TEACHER_ALLOW_LINK_LOCAL;
  if (!t) {
    const u = new URL(url);
    if (targets.size >= 256) targets.clear();
    const hostname = u.hostname;
    t = {
      origin: u.origin,
      path: `${u.pathname}${u.search}`,
      hostname,
      blocked: isBlockedTeacherIp(hostname),
      allow,
    };
    targets.set(url, t);
  } else if (t.allow !== allow) {
    t.blocked = isBlockedTeacherIp(t.hostname);
    t.allow = allow;
  }
  return t;
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
      Object.assign(new Error(`${t.hostname} is a link-local / cloud metadata address`), {
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
