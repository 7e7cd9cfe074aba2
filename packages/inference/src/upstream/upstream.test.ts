import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleChatCompletions, handleCompletions, modelsResponse } from "../openai/handle-v1.ts";
import { createModelPool, type ModelPool } from "../pool/model-pool.ts";
import { UnknownModelError } from "../pool/servable-models.ts";
import { serveOverHttp } from "../testing/serve-over-http.ts";
import { createUpstreams, parseGpuServers, type Upstreams } from "./upstream.ts";

/**
 * The studio's /v1 forwarding an `hf` model to its GPU server, with the official `openai`
 * client: the GPU server is packages/trainer-hf's real `distillery_trainer.serve` HTTP side
 * (under /usr/bin/python3, with the scripted runner of its own tests in place of torch), and a
 * small Node server for the failures (a 500, a server that breaks off mid-stream, a slow stream
 * whose client leaves).
 */
const trainerHf = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "trainer-hf");
/** the think split keeps what follows </think> in `content` (as vLLM's R1 parser does) */
const SCRIPT = "We add 2 and 2.</think>\n\nThe answer is \\boxed{4}.";

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** `distillery_trainer.serve` serving "gpu-model" (key "gpu-key") with the scripted runner */
function startPythonServe(port: number): ChildProcess {
  const code = [
    "import threading, sys",
    "from http.server import ThreadingHTTPServer",
    "from distillery_trainer import serve",
    "from tests.test_serve_protocol import ScriptedRunner",
    `runner = ScriptedRunner(${JSON.stringify(SCRIPT)}, context=256, delay=0.002)`,
    `httpd = ThreadingHTTPServer(("127.0.0.1", ${port}), serve.make_handler(serve.Server(runner, "gpu-model", "gpu-key")))`,
    "httpd.daemon_threads = True",
    "print('listening', flush=True)",
    "httpd.serve_forever()",
  ].join("\n");
  return spawn("/usr/bin/python3", ["-c", code], {
    cwd: trainerHf,
    env: { ...process.env, PYTHONPATH: `${join(trainerHf, "python")}:${trainerHf}` },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** the failures: "gpu-500" answers an error object, "gpu-text500" plain text, "gpu-cut" breaks off, "gpu-slow" streams slowly */
let slowClosedEarly = 0;
function startFailingServer(): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          data: ["gpu-500", "gpu-text500", "gpu-cut", "gpu-slow", "gpu-gone"].map((id) => ({
            id,
            object: "model",
          })),
        }),
      );
      return;
    }
    let text = "";
    for await (const c of req) text += c;
    const body = JSON.parse(text) as { model: string };
    const chunk = (content: string) =>
      `data: ${JSON.stringify({
        id: "c1",
        object: "chat.completion.chunk",
        created: 0,
        model: body.model,
        choices: [{ index: 0, delta: { content }, finish_reason: null }],
      })}\n\n`;
    if (body.model === "gpu-gone") {
      req.socket.destroy();
    } else if (body.model === "gpu-500") {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          error: { message: "CUDA out of memory", type: "server_error", param: null, code: "oom" },
        }),
      );
    } else if (body.model === "gpu-text500") {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("Internal Server Error");
    } else if (body.model === "gpu-cut") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunk("partial"));
      setTimeout(() => res.destroy(), 50);
    } else {
      res.writeHead(200, { "content-type": "text/event-stream" });
      let n = 0;
      res.on("close", () => {
        if (!res.writableFinished) slowClosedEarly++;
        clearInterval(timer);
      });
      const timer = setInterval(() => {
        res.write(chunk(`t${n++} `));
        if (n === 500) {
          clearInterval(timer);
          res.end("data: [DONE]\n\n");
        }
      }, 20);
    }
  });
  return new Promise((r) =>
    server.listen(0, "127.0.0.1", () =>
      r({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

let python: ChildProcess | undefined;
let failing: { server: Server; url: string };
let studio: { url: string; close: () => Promise<void> };
let pool: ModelPool;
let upstreams: Upstreams;
let client: OpenAI;
let gpuPort: number;

const models = ["gpu-model", "gpu-500", "gpu-text500", "gpu-cut", "gpu-slow", "gpu-gone"].map((id) => ({
  id,
  kind: "base" as const,
  label: id,
  created: 0,
}));

beforeAll(async () => {
  gpuPort = await freePort();
  failing = await startFailingServer();
  const servers = parseGpuServers(
    JSON.stringify({
      "gpu-model": { url: `http://127.0.0.1:${gpuPort}/`, apiKey: "gpu-key" },
      "gpu-500": failing.url,
      "gpu-text500": failing.url,
      "gpu-cut": failing.url,
      "gpu-slow": failing.url,
      "gpu-gone": failing.url,
    }),
  );
  upstreams = createUpstreams({ lookup: (id) => servers.get(id) ?? null, probeIntervalMs: 100 });
  // no CPU model here: a request that is not forwarded would fail as unknown
  pool = createModelPool({
    budgetBytes: 1 << 20,
    slots: 1,
    resolve: async (id) => {
      throw new UnknownModelError(id);
    },
  });
  studio = await serveOverHttp({
    "POST /v1/chat/completions": (req) => handleChatCompletions({ pool, upstreams }, req),
    "POST /v1/completions": (req) => handleCompletions({ pool, upstreams }, req),
    "GET /v1/models": async () =>
      modelsResponse(models, pool, await upstreams.states(models.map((m) => m.id))),
  });
  client = new OpenAI({ baseURL: `${studio.url}/v1`, apiKey: "studio-token", maxRetries: 0 });
});

afterAll(async () => {
  python?.kill("SIGTERM");
  await studio?.close();
  await pool?.close();
  failing?.server.closeAllConnections();
  await new Promise((r) => failing?.server.close(r));
});

const ask = [{ role: "user" as const, content: "2+2?" }];

describe("an hf model on a GPU server", () => {
  it("shows as loading until its server lists it, and a request waits for it", async () => {
    const before = await client.models.list();
    expect(before.data.find((m) => m.id === "gpu-model")).toMatchObject({ status: "loading" });
    // a request sent while the server is still starting waits for it
    const pending = client.chat.completions.create({ model: "gpu-model", messages: ask, temperature: 0 });
    python = startPythonServe(gpuPort);
    const reply = await pending;
    expect(reply.choices[0]?.message.content).toBe("\n\nThe answer is \\boxed{4}.");
    expect(reply.choices[0]?.message).toMatchObject({ reasoning_content: "We add 2 and 2." });
    const after = await client.models.list();
    expect(after.data.find((m) => m.id === "gpu-model")).toMatchObject({ status: "ready" });
  });

  it("non-stream: usage, n > 1 and logprobs come back as the server sent them", async () => {
    const reply = await client.chat.completions.create({
      model: "gpu-model",
      messages: ask,
      n: 2,
      seed: 3,
      max_tokens: 5,
      logprobs: true,
      top_logprobs: 1,
    });
    expect(reply.choices).toHaveLength(2);
    expect(reply.choices[0]?.finish_reason).toBe("length");
    expect(reply.usage?.completion_tokens).toBe(10);
    expect(reply.choices[0]?.logprobs?.content?.[0]?.top_logprobs).toHaveLength(1);
    const legacy = await client.completions.create({ model: "gpu-model", prompt: "2+2=", max_tokens: 3 });
    expect(legacy.choices[0]?.text).toBe("We ");
  });

  it("stream: chunks add up to the answer, then usage", async () => {
    const stream = await client.chat.completions.create({
      model: "gpu-model",
      messages: ask,
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = "";
    let reasoning = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const c of stream) {
      const d = c.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
      content += d?.content ?? "";
      reasoning += d?.reasoning_content ?? "";
      if (c.usage) usage = c.usage;
    }
    expect(content).toBe("\n\nThe answer is \\boxed{4}.");
    expect(reasoning).toBe("We add 2 and 2.");
    expect(usage?.completion_tokens).toBe(SCRIPT.length);
  });

  it("bad input is answered by the studio (the field named), before any forwarding", async () => {
    const err = await client.chat.completions
      .create({ model: "gpu-model", messages: ask, max_tokens: 0 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe("max_tokens");
    // the server's own errors pass through: a prompt over its context (256)
    const long = await client.chat.completions
      .create({ model: "gpu-model", messages: [{ role: "user", content: "x".repeat(400) }] })
      .catch((e) => e);
    expect(long).toBeInstanceOf(OpenAI.BadRequestError);
    expect(long.code).toBe("context_length_exceeded");
  });

  it("an upstream 500 comes back as an OpenAI error (its own object, or a wrapped one)", async () => {
    const own = await client.chat.completions.create({ model: "gpu-500", messages: ask }).catch((e) => e);
    expect(own).toBeInstanceOf(OpenAI.InternalServerError);
    expect(own.code).toBe("oom");
    expect(own.message).toContain("CUDA out of memory");
    const wrapped = await client.chat.completions
      .create({ model: "gpu-text500", messages: ask })
      .catch((e) => e);
    expect(wrapped).toBeInstanceOf(OpenAI.InternalServerError);
    expect(wrapped.code).toBe("upstream_error");
    expect(wrapped.message).toContain("Internal Server Error");
  });

  it("a server that breaks off mid-stream ends the stream with an error event", async () => {
    const stream = await client.chat.completions.create({ model: "gpu-cut", messages: ask, stream: true });
    let content = "";
    const err = await (async () => {
      for await (const c of stream) content += c.choices[0]?.delta.content ?? "";
    })().catch((e) => e);
    expect(content).toBe("partial");
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.message).toContain("broke off the stream");
  });

  it("a server that never lists the model: 503 model_loading with Retry-After after the wait", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const local = createUpstreams({
      lookup: () => ({ url: down }),
      readyTimeoutMs: 300,
      probeIntervalMs: 100,
    });
    expect(await local.lookup("x")).toEqual({ url: down });
    expect(local.stateOf("x")).toBe("loading");
    const res = await local.forward("x", { url: down }, "/v1/completions", {});
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect((await res.json()).error).toMatchObject({ code: "model_loading", param: "model" });
  });

  it("a server that drops the connection: 502 upstream_unavailable, and the model is loading again", async () => {
    expect((await upstreams.states(["gpu-gone"])).get("gpu-gone")).toBe("ready");
    const err = await client.chat.completions.create({ model: "gpu-gone", messages: ask }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(502);
    expect(err.code).toBe("upstream_unavailable");
    expect(upstreams.stateOf("gpu-gone")).toBe("loading");
  });

  it("a client that leaves mid-stream aborts the upstream request", async () => {
    const before = slowClosedEarly;
    const stream = await client.chat.completions.create({ model: "gpu-slow", messages: ask, stream: true });
    let n = 0;
    for await (const _ of stream) if (++n === 3) break;
    for (let i = 0; i < 50 && slowClosedEarly === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(slowClosedEarly).toBe(before + 1);
  });
});
