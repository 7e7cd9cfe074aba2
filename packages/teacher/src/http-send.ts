import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { guardedLookup, isBlockedTeacherIp } from "./teacher-address.ts";

/**
 * One pooled keep-alive agent per protocol for every teacher request. node:http rather than
 * fetch: the loop streams hundreds of chunks a request, and Node's readable streams cost far
 * less per chunk than fetch's web streams (bench:teacher). Not undici either, though its client
 * costs less CPU a request (0.8-0.9 vs 1.1-1.5 ms in bench:teacher under load): it reuses an idle
 * keep-alive socket only after a setImmediate (its check for bytes a server sent unasked), so
 * every slot whose answer was read in one turn of the event loop sends its next request at the
 * end of that turn, together (slot free → sent p50 3-40 ms vs 0.4 ms), and answers that arrived
 * together go out, and come back, together again; node:http hands the socket over at once, so a
 * burst spreads out by the loop's own pace.
 */
const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: "lifo" }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: "lifo" }),
};

interface Target {
  url: URL;
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
    t = { url: u, isHttps: u.protocol === "https:", blocked: isBlockedTeacherIp(u.hostname), allow };
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
