import { OpenAiError } from "../openai/openai-error.ts";
import type { ModelState } from "../pool/model-pool.ts";

/**
 * An "upstream" model: served by a GPU server that speaks the same /v1 (packages/trainer-hf's
 * `python -m distillery_trainer.serve`, transformers or vLLM's own server, started with
 * `buildHfServeCommand` and `servedName` = the studio's model id). The studio validates the
 * request as for a CPU model, then forwards it over HTTP: JSON or SSE passed through as it
 * comes, the upstream's error objects passed through with their status, anything else turned
 * into an OpenAI error object; a client that goes away aborts the upstream request.
 */
export interface UpstreamServer {
  /** base URL of the server (`http://gpu-1:8001`; `/v1/...` is appended) */
  url: string;
  /** sent as `Authorization: Bearer …` (the server's DISTILLERY_SERVE_API_KEY) */
  apiKey?: string;
  /**
   * What the GPU registry says (a server a worker started): "loading" while its process starts
   * (the url may still be empty), "failed" with the reason when it could not start or died.
   * Absent for a configured server (DISTILLERY_GPU_SERVERS): its /v1/models decides.
   */
  state?: "loading" | "ready" | "failed";
  reason?: string;
}

export interface UpstreamsOptions {
  /**
   * The GPU server for a model id, or null when the model is served here (CPU). `load: false`
   * (the model list) must not start a load; a request (`load: true`) may ask a GPU worker to.
   */
  lookup: (id: string, options: { load: boolean }) => Promise<UpstreamServer | null> | UpstreamServer | null;
  /** a request for the model (the GPU workers evict the least recently used one first) */
  touch?: (id: string) => Promise<void> | void;
  /** a request for a model still loading waits this long for its server's /v1/models */
  readyTimeoutMs?: number;
  /** how often a loading server is asked again */
  probeIntervalMs?: number;
  log?: (message: string) => void;
}

export interface Upstreams {
  lookup(id: string): Promise<UpstreamServer | null>;
  /** "ready" once the server listed the model on /v1/models, "loading" until then; null: not upstream */
  stateOf(id: string): ModelState | null;
  /** asks each upstream model's server once (short timeout) and returns the states */
  states(ids: string[]): Promise<Map<string, ModelState>>;
  /** POSTs a validated body to the model's server: `path` is `/v1/chat/completions` or `/v1/completions` */
  forward(
    id: string,
    server: UpstreamServer,
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<Response>;
}

const PROBE_TIMEOUT_MS = 2_000;
/** what a client that got 503 model_loading is told to wait (seconds) */
const RETRY_AFTER_S = 5;

/** `DISTILLERY_GPU_SERVERS`: `{"<model id>": "http://host:port"}` or `{"<model id>": {"url", "apiKey"}}`. */
export function parseGpuServers(text: string | undefined): Map<string, UpstreamServer> {
  const out = new Map<string, UpstreamServer>();
  if (!text?.trim()) return out;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`DISTILLERY_GPU_SERVERS is not JSON: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new Error('DISTILLERY_GPU_SERVERS must be an object: {"<model id>": "http://host:port"}');
  for (const [id, v] of Object.entries(raw)) {
    const server: UpstreamServer | null =
      typeof v === "string"
        ? { url: v }
        : v && typeof v === "object" && typeof (v as UpstreamServer).url === "string"
          ? {
              url: (v as UpstreamServer).url,
              apiKey:
                typeof (v as UpstreamServer).apiKey === "string" ? (v as UpstreamServer).apiKey : undefined,
            }
          : null;
    if (!server) throw new Error(`DISTILLERY_GPU_SERVERS["${id}"] must be a URL or {"url", "apiKey"}`);
    new URL(server.url); // throws on a malformed URL
    out.set(id, { ...server, url: server.url.replace(/\/+$/, "") });
  }
  return out;
}

function headersFor(server: UpstreamServer, json: boolean): Record<string, string> {
  const h: Record<string, string> = {
    accept: json ? "application/json" : "text/event-stream, application/json",
  };
  if (json) h["content-type"] = "application/json";
  if (server.apiKey) h.authorization = `Bearer ${server.apiKey}`;
  return h;
}

/** The upstream's error body as an OpenAI error response (its own error object when it sent one). */
async function errorResponse(id: string, res: Response): Promise<Response> {
  const text = await res.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    if (parsed?.error && typeof parsed.error.message === "string")
      return Response.json(parsed, { status: res.status });
  } catch {
    // not JSON: wrapped below
  }
  return new OpenAiError(
    res.status >= 400 ? res.status : 502,
    `The GPU server for \`${id}\` answered ${res.status}${text ? `: ${text.slice(0, 300)}` : ""}`,
    null,
    "upstream_error",
  ).toResponse();
}

/** 503 model_loading with Retry-After (the model is still loading when the request gives up waiting) */
class LoadingError extends OpenAiError {
  constructor(id: string, url: string) {
    super(
      503,
      url
        ? `The model \`${id}\` is still loading on its GPU server (${url}/v1/models does not list it yet)`
        : `The model \`${id}\` is still loading on a GPU worker`,
      "model",
      "model_loading",
    );
  }

  override toResponse(): Response {
    return Response.json(this.toJSON(), {
      status: this.status,
      headers: { "retry-after": String(RETRY_AFTER_S) },
    });
  }
}

export function createUpstreams(options: UpstreamsOptions): Upstreams {
  const readyTimeout = options.readyTimeoutMs ?? 10 * 60_000;
  const interval = options.probeIntervalMs ?? 1_000;
  const log = options.log ?? (() => {});
  const state = new Map<string, { url: string; state: ModelState }>();

  async function lookup(id: string, load = true) {
    const server = await options.lookup(id, { load });
    if (!server) {
      state.delete(id);
      return null;
    }
    const have = state.get(id);
    if (!have || have.url !== server.url || server.state === "loading" || server.state === "failed")
      state.set(id, { url: server.url, state: "loading" });
    return server;
  }

  /** true once the server lists the model on GET /v1/models */
  async function probe(id: string, server: UpstreamServer, signal?: AbortSignal): Promise<boolean> {
    const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    try {
      const res = await fetch(`${server.url}/v1/models`, {
        headers: headersFor(server, false),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (!res.ok) {
        await res.body?.cancel();
        return false;
      }
      const body = (await res.json()) as { data?: { id?: unknown }[] };
      const ready = Array.isArray(body.data) && body.data.some((m) => m?.id === id);
      if (ready && state.get(id)?.state !== "ready")
        log(`[inference] ${id}: GPU server ${server.url} is ready`);
      if (ready) state.set(id, { url: server.url, state: "ready" });
      return ready;
    } catch {
      return false;
    }
  }

  /**
   * The server once it lists the model. A registry server is looked up again while it loads
   * (its worker fills in the address, or marks it failed); a failed one answers 503 with the reason.
   */
  async function waitReady(id: string, first: UpstreamServer, signal?: AbortSignal): Promise<UpstreamServer> {
    let server = first;
    if (!server.state && state.get(id)?.state === "ready") return server;
    const deadline = Date.now() + readyTimeout;
    for (;;) {
      if (server.state === "failed")
        throw new OpenAiError(
          503,
          `The model \`${id}\` could not be served on a GPU: ${server.reason ?? "its server failed"}`,
          "model",
          "model_load_failed",
        );
      if (server.state !== "loading" && server.url && (await probe(id, server, signal))) return server;
      if (signal?.aborted) throw new OpenAiError(499, "the client went away", null, "cancelled");
      if (Date.now() >= deadline) throw new LoadingError(id, server.url);
      await new Promise((r) => setTimeout(r, interval));
      if (server.state) {
        const again = await lookup(id);
        if (!again)
          throw new OpenAiError(
            502,
            `No GPU worker serves \`${id}\` any more`,
            "model",
            "upstream_unavailable",
          );
        server = again;
      }
    }
  }

  return {
    lookup: (id) => lookup(id, true),
    stateOf: (id) => state.get(id)?.state ?? null,
    async states(ids) {
      const out = new Map<string, ModelState>();
      await Promise.all(
        ids.map(async (id) => {
          const server = await lookup(id, false);
          if (!server) return;
          if (server.state === "failed") return; // listed as not loaded; a request says why
          if (!server.state || server.state === "ready")
            if (state.get(id)?.state !== "ready" && server.url) await probe(id, server);
          out.set(id, state.get(id)?.state ?? "loading");
        }),
      );
      return out;
    },
    async forward(id, first, path, body, signal) {
      await Promise.resolve(options.touch?.(id)).catch(() => {});
      let server: UpstreamServer;
      try {
        server = await waitReady(id, first, signal);
      } catch (e) {
        if (e instanceof LoadingError) return e.toResponse();
        throw e;
      }
      const aborter = new AbortController();
      const onAbort = () => aborter.abort();
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => signal?.removeEventListener("abort", onAbort);
      let res: Response;
      try {
        res = await fetch(`${server.url}${path}`, {
          method: "POST",
          headers: headersFor(server, true),
          body: JSON.stringify(body),
          signal: aborter.signal,
        });
      } catch (e) {
        done();
        if (signal?.aborted) throw new OpenAiError(499, "the client went away", null, "cancelled");
        // the server went away (restarted, evicted): it has to list the model again
        state.set(id, { url: server.url, state: "loading" });
        throw new OpenAiError(
          502,
          `The GPU server for \`${id}\` did not answer: ${(e as Error).message}`,
          "model",
          "upstream_unavailable",
        );
      }
      if (!res.ok) {
        done();
        return errorResponse(id, res);
      }
      const type = res.headers.get("content-type") ?? "application/json";
      if (!type.startsWith("text/event-stream") || !res.body) {
        try {
          return new Response(await res.text(), { status: res.status, headers: { "content-type": type } });
        } catch (e) {
          if (signal?.aborted) throw new OpenAiError(499, "the client went away", null, "cancelled");
          throw new OpenAiError(
            502,
            `The GPU server for \`${id}\` broke off its answer: ${(e as Error).message}`,
            null,
            "upstream_disconnected",
          );
        } finally {
          done();
        }
      }
      const reader = res.body.getReader();
      const encoder = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        async pull(sink) {
          try {
            const { done: end, value } = await reader.read();
            if (end) {
              done();
              sink.close();
            } else sink.enqueue(value);
          } catch (e) {
            done();
            if (aborter.signal.aborted) {
              sink.close();
              return;
            }
            // the server broke off mid-stream: an error event (the openai client throws it), then [DONE]
            const err = new OpenAiError(
              502,
              `The GPU server for \`${id}\` broke off the stream: ${(e as Error).message}`,
              null,
              "upstream_disconnected",
            );
            sink.enqueue(encoder.encode(`\n\ndata: ${JSON.stringify(err.toJSON())}\n\ndata: [DONE]\n\n`));
            sink.close();
          }
        },
        async cancel() {
          // the client went away: the upstream request goes too (the server frees its rows)
          aborter.abort();
          done();
          await reader.cancel().catch(() => {});
        },
      });
      return new Response(stream, {
        status: res.status,
        headers: {
          "content-type": type,
          "cache-control": "no-cache, no-transform",
          connection: "keep-alive",
          "x-accel-buffering": "no",
        },
      });
    },
  };
}
