import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP teacher for tests, the demo and the benchmark. It speaks every shape the client
 * reads — OpenAI-compatible `/v1/chat/completions` (JSON and SSE, reasoning in
 * `reasoning_content`, `reasoning`, inline `<think>`, a template-opened block, or none), ollama's
 * `/api/chat` (NDJSON, `message.thinking` with `think: true`), `/v1/models` and `/api/tags` —
 * and injects the faults teachers have in the wild.
 */
export type ReasoningShape = "reasoning_content" | "reasoning" | "inline" | "inline-opened" | "none";

export type FaultKind =
  | "429"
  | "500"
  | "401"
  | "stall"
  | "drop"
  | "malformed"
  | "empty"
  | "html"
  | "nothing"
  | "length";

export interface FaultRule {
  kind: FaultKind;
  /** only requests whose last user message contains this (default: any) */
  match?: string;
  /** how many matching requests it hits (default 1) */
  times?: number;
  /** for 429 */
  retryAfterS?: number;
}

export interface TeacherAnswer {
  reasoning: string;
  answer: string;
}

export interface FakeTeacherOptions {
  models?: string[];
  reasoning?: ReasoningShape;
  /** requests must carry `Authorization: Bearer <apiKey>` */
  apiKey?: string;
  /** wait before answering each request, ms */
  delayMs?: number;
  /** wait between streamed chunks, ms (0: all at once after the delay) */
  chunkIntervalMs?: number;
  /** split the answer into this many streamed tokens (default: one per word) */
  tokens?: number;
  /** how long a "stall" waits before giving up on the request (default: forever) */
  stallMs?: number;
  faults?: FaultRule[];
  answer?: (prompt: string) => TeacherAnswer;
  /** ollama: the model cannot think separately (`think: true` is refused with 400, as ollama does) */
  isOllamaWithoutThinking?: boolean;
  /** listen on this port (default: any free one) */
  port?: number;
  /** every page answers HTML (a web server that is not a teacher) */
  isHtmlSite?: boolean;
  /**
   * the benchmark: record, per chat request, the ms from its body read to its answer written
   * (the endpoint's own time, its event-loop lag included), served with this process's CPU at
   * `GET /_bench/timings` (`?reset` empties the record)
   */
  recordTimings?: boolean;
  /**
   * `POST /v1/completions` answers a plain text completion without `prompt_logprobs`, as
   * OpenAI's API and ollama do (a teacher that cannot be a logit / on-policy teacher)
   */
  isWithoutPromptLogprobs?: boolean;
}

/** `GET /_bench/timings`: what the endpoint spent, to tell it apart from the client's overhead. */
export interface FakeTeacherTimings {
  /**
   * per chat request, in arrival order: the prompt, ms from body read to answer written, and
   * when the answer was written (`answeredAt`, stamped just before the write: the system's
   * monotonic clock in ms, `process.hrtime`, which every process on the machine shares)
   */
  requests: { prompt: string; ms: number; answeredAt: number }[];
  /** this process's CPU (process.cpuUsage(), µs) */
  cpu: { user: number; system: number };
}

/** Solves "a + b" (and "What is a + b?"); anything else gets a short generic trace. */
export function defaultTeacherAnswer(prompt: string): TeacherAnswer {
  const m = /(-?\d+)\s*\+\s*(-?\d+)/.exec(prompt);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    return {
      reasoning: `We add ${a} and ${b}.\nUnits first, then tens, carrying as needed.\n${a} + ${b} = ${a + b}.`,
      answer: `The sum is \\boxed{${a + b}}.`,
    };
  }
  return { reasoning: `The question asks: ${prompt.slice(0, 80)}\nI think about it.`, answer: "\\boxed{42}" };
}

interface RequestRecord {
  path: string;
  prompt: string;
  stream: boolean;
  model: string;
  fault?: FaultKind;
}

function lastUserMessage(body: { messages?: { role?: string; content?: unknown }[] }): string {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === "user" && typeof m.content === "string") return m.content;
  }
  return "";
}

/** One piece per word, or exactly `n` pieces (words, padded with " …" steps when short). */
function splitTokens(text: string, n: number | undefined): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  if (!n) return words;
  if (words.length >= n) {
    const out: string[] = [];
    const per = Math.ceil(words.length / n);
    for (let i = 0; i < words.length; i += per) out.push(words.slice(i, i + per).join(""));
    return out;
  }
  return [...words, ...Array.from({ length: n - words.length }, () => " …")];
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Says nothing more until the client gives up (or `stallMs`, then hangs up). */
const stallFor = (res: ServerResponse, ms: number | undefined) =>
  new Promise<void>((resolve) => {
    const t = ms ? setTimeout(() => res.socket?.destroy(), ms) : undefined;
    t?.unref();
    res.on("close", () => {
      clearTimeout(t);
      resolve();
    });
  });

export async function startFakeTeacher(options: FakeTeacherOptions = {}) {
  const models = options.models ?? ["fake-r1"];
  const faults = (options.faults ?? []).map((f) => ({ ...f, left: f.times ?? 1 }));
  const requests: RequestRecord[] = [];
  const timings: FakeTeacherTimings["requests"] = [];
  const eventCache = new Map<string, string>();
  /** recordTimings: when a streamed answer began to be written */
  const answeringAt = new WeakMap<ServerResponse, number>();
  const perPrompt = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const sockets = new Set<import("node:net").Socket>();

  const stall = (res: ServerResponse) => stallFor(res, options.stallMs);

  const takeFault = (prompt: string): FaultRule | undefined => {
    const f = faults.find((r) => r.left > 0 && (r.match === undefined || prompt.includes(r.match)));
    if (f) f.left--;
    return f;
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };

  const answerChat = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: Record<string, unknown>,
    ollama: boolean,
  ) => {
    const prompt = lastUserMessage(body as { messages?: { role?: string; content?: unknown }[] });
    const stream = ollama ? body.stream !== false : body.stream === true;
    const fault = takeFault(prompt);
    const record: RequestRecord = { path: req.url ?? "", prompt, stream, model: String(body.model ?? "") };
    if (fault) record.fault = fault.kind;
    requests.push(record);
    perPrompt.set(prompt, (perPrompt.get(prompt) ?? 0) + 1);
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return json(res, 401, { error: { message: "invalid api key", type: "authentication_error" } });
    }
    if (fault?.kind === "401") return json(res, 401, { error: { message: "invalid api key" } });
    if (fault?.kind === "429") {
      return json(
        res,
        429,
        { error: { message: "rate limited" } },
        { "retry-after": String(fault.retryAfterS ?? 1) },
      );
    }
    if (fault?.kind === "500") return json(res, 500, { error: { message: "internal error" } });
    if (fault?.kind === "html") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end("<!doctype html><html><body>Welcome to nginx!</body></html>");
    }
    if (fault?.kind === "nothing") {
      res.writeHead(200, { "content-type": "application/json", "content-length": "0" });
      return res.end();
    }
    if (fault?.kind === "stall" && !stream) {
      return stall(res);
    }
    if (options.delayMs) await wait(options.delayMs);
    if (res.destroyed) return;
    const model = String(body.model ?? models[0]);
    const a = (options.answer ?? defaultTeacherAnswer)(prompt);
    const isCut = fault?.kind === "length";
    const reasoningText = a.reasoning;
    const answerText = isCut ? "" : a.answer;
    const shape = options.reasoning ?? "reasoning_content";
    const finish = isCut ? "length" : "stop";
    const promptTokens = Math.ceil(prompt.length / 4);
    const reasoningPieces = splitTokens(
      reasoningText,
      options.tokens ? Math.max(1, options.tokens - 10) : undefined,
    );
    const answerPieces = splitTokens(answerText, options.tokens ? Math.min(10, options.tokens) : undefined);
    const completionTokens = reasoningPieces.length + answerPieces.length;

    if (ollama && options.isOllamaWithoutThinking && body.think === true) {
      return json(res, 400, { error: `"${model}" does not support thinking` });
    }
    if (ollama) {
      const thinking = body.think === true;
      // without think, ollama puts a thinking model's reasoning inline
      const lines: Record<string, unknown>[] = [];
      if (thinking)
        for (const p of reasoningPieces)
          lines.push({ model, message: { role: "assistant", content: "", thinking: p }, done: false });
      else
        lines.push({
          model,
          message: { role: "assistant", content: `<think>${reasoningText}</think>` },
          done: false,
        });
      for (const p of answerPieces)
        lines.push({ model, message: { role: "assistant", content: p }, done: false });
      const done = {
        model,
        message: { role: "assistant", content: "" },
        done: true,
        done_reason: finish,
        prompt_eval_count: promptTokens,
        eval_count: completionTokens,
      };
      if (!stream) {
        return json(res, 200, {
          model,
          message: {
            role: "assistant",
            content: (thinking ? "" : `<think>${reasoningText}</think>`) + answerText,
            ...(thinking ? { thinking: reasoningText } : {}),
          },
          done: true,
          done_reason: finish,
          prompt_eval_count: promptTokens,
          eval_count: completionTokens,
        });
      }
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      await writeChunks(
        res,
        lines.map((l) => `${JSON.stringify(l)}\n`),
        fault?.kind,
        `${JSON.stringify(done)}\n`,
        "{not json\n",
      );
      return;
    }

    const inlineContent = (text: string) =>
      shape === "inline"
        ? `<think>\n${text}\n</think>\n\n`
        : shape === "inline-opened"
          ? `${text}\n</think>\n\n`
          : "";
    if (!stream) {
      if (fault?.kind === "empty")
        return json(res, 200, { id: "cmpl", object: "chat.completion", model, choices: [] });
      const message: Record<string, unknown> = {
        role: "assistant",
        content: inlineContent(reasoningText) + answerText,
      };
      if (shape === "reasoning_content" || shape === "reasoning") message[shape] = reasoningText;
      if (shape === "none") message.content = answerText;
      if (isCut && (shape === "inline" || shape === "inline-opened"))
        message.content = `<think>\n${reasoningText}`;
      return json(res, 200, {
        id: "cmpl",
        object: "chat.completion",
        model,
        choices: [{ index: 0, message, finish_reason: finish }],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          completion_tokens_details: { reasoning_tokens: reasoningPieces.length },
        },
      });
    }
    const events: string[] = [];
    // the chunk's frame is written once; only the delta is serialised per token (the benchmark's
    // endpoint should cost little next to the loop it measures)
    const head = `data: {"id":"cmpl","object":"chat.completion.chunk","model":${JSON.stringify(model)},"choices":[{"index":0,"delta":`;
    const ev = (delta: Record<string, unknown>, finishReason: string | null = null) =>
      `${head}${JSON.stringify(delta)},"finish_reason":${JSON.stringify(finishReason)}}]}\n\n`;
    // a token's event, made once per (model, field, text): the padded answers repeat most tokens
    const tokenEvent = (field: string, text: string) => {
      const key = `${model}\u0000${field}\u0000${text}`;
      let e = eventCache.get(key);
      if (e === undefined) {
        if (eventCache.size >= 4096) eventCache.clear();
        e = ev({ [field]: text });
        eventCache.set(key, e);
      }
      return e;
    };
    if (fault?.kind !== "empty") {
      events.push(ev({ role: "assistant", content: "" }));
      if (shape === "inline") events.push(ev({ content: "<think>\n" }));
      for (const p of reasoningPieces) {
        if (shape === "reasoning_content" || shape === "reasoning") events.push(tokenEvent(shape, p));
        else if (shape !== "none") events.push(tokenEvent("content", p));
      }
      if ((shape === "inline" || shape === "inline-opened") && !isCut)
        events.push(ev({ content: "\n</think>\n\n" }));
      for (const p of answerPieces) events.push(tokenEvent("content", p));
      events.push(ev({}, finish));
    }
    const tail =
      `data: ${JSON.stringify({ id: "cmpl", object: "chat.completion.chunk", model, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, completion_tokens_details: { reasoning_tokens: reasoningPieces.length } } })}\n\n` +
      "data: [DONE]\n\n";
    // the benchmark's stamp: before the write, so a preempted endpoint never stamps after its
    // answer was read
    if (options.recordTimings) answeringAt.set(res, Number(process.hrtime.bigint()) / 1e6);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    await writeChunks(res, events, fault?.kind, tail, "data: {not json\n\n");
  };

  /** Writes the chunks (with the fault mid-way, when there is one), then the tail. */
  const writeChunks = async (
    res: ServerResponse,
    chunks: string[],
    fault: FaultKind | undefined,
    tail: string,
    bad: string,
  ) => {
    const half = Math.floor(chunks.length / 2);
    if (!options.chunkIntervalMs && !fault) {
      res.end(chunks.join("") + tail);
      return;
    }
    for (let i = 0; i < chunks.length; i++) {
      if (res.destroyed) return;
      if (i === half && fault === "drop") {
        res.socket?.destroy();
        return;
      }
      if (i === half && fault === "malformed") res.write(bad);
      if (i === half && fault === "stall") {
        await stall(res);
        return;
      }
      res.write(chunks[i] as string);
      if (options.chunkIntervalMs) await wait(options.chunkIntervalMs);
    }
    res.end(tail);
  };

  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("close", () => {
      inFlight--;
    });
    const url = new URL(req.url ?? "/", "http://x");
    if (options.isHtmlSite) {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><html><body>It works!</body></html>");
      return;
    }
    if (options.recordTimings && req.method === "GET" && url.pathname === "/_bench/timings") {
      const body: FakeTeacherTimings = { requests: timings.slice(), cpu: process.cpuUsage() };
      if (url.searchParams.has("reset")) timings.length = 0;
      return json(res, 200, body);
    }
    const isAuthorized = !options.apiKey || req.headers.authorization === `Bearer ${options.apiKey}`;
    if (req.method === "GET" && url.pathname.endsWith("/models")) {
      if (!isAuthorized) return json(res, 401, { error: { message: "invalid api key" } });
      return json(res, 200, {
        object: "list",
        data: models.map((id) => ({ id, object: "model", owned_by: "fake" })),
      });
    }
    if (req.method === "GET" && url.pathname === "/api/tags") {
      return json(res, 200, { models: models.map((name) => ({ name, model: name, size: 1 })) });
    }
    if (options.isWithoutPromptLogprobs && req.method === "POST" && url.pathname === "/v1/completions") {
      if (!isAuthorized) return json(res, 401, { error: { message: "invalid api key" } });
      req.resume();
      req.on("end", () =>
        json(res, 200, {
          id: "cmpl-fake",
          object: "text_completion",
          created: 0,
          model: models[0],
          choices: [{ index: 0, text: " the", logprobs: null, finish_reason: "length" }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
      return;
    }
    const isChat = url.pathname.endsWith("/chat/completions");
    const isOllama = url.pathname === "/api/chat";
    if (req.method !== "POST" || (!isChat && !isOllama))
      return json(res, 404, { error: { message: "not found" } });
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(parts).toString("utf8"));
      } catch {
        return json(res, 400, { error: { message: "body is not JSON" } });
      }
      const receivedAt = performance.now();
      answerChat(req, res, body, isOllama).then(
        () => {
          if (options.recordTimings)
            timings.push({
              prompt: lastUserMessage(body as { messages?: { role?: string; content?: unknown }[] }),
              ms: performance.now() - receivedAt,
              answeredAt: answeringAt.get(res) ?? Number(process.hrtime.bigint()) / 1e6,
            });
        },
        () => res.destroy(),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    /** the OpenAI-compatible base URL */
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    /** chat requests seen per prompt (the last user message) */
    requestsFor: (prompt: string) => perPrompt.get(prompt) ?? 0,
    get maxInFlight() {
      return maxInFlight;
    },
    addFaults(rules: FaultRule[]) {
      for (const f of rules) faults.push({ ...f, left: f.times ?? 1 });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
export type FakeTeacher = Awaited<ReturnType<typeof startFakeTeacher>>;
