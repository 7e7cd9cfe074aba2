import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
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
