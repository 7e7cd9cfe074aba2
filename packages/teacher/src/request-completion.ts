import type { IncomingMessage } from "node:http";
import { readText, sendRequest } from "./http-send.ts";
import {
  estimateTokens,
  type NormalizedCompletion,
  normalizeCompletion,
  type OllamaChatBody,
  type OpenAiCompletionBody,
} from "./normalize-completion.ts";
import { readOllamaStream, readOpenAiStream } from "./read-streams.ts";
import { endpointUrl, ollamaRoot, type Sampling, type TeacherEndpoint } from "./teacher-endpoint.ts";
import { parseRetryAfter, TeacherError } from "./teacher-error.ts";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface RequestOptions {
  /** stream the answer (SSE / NDJSON); default true */
  stream?: boolean;
  /** no byte from the teacher for this long (before the headers or between chunks): a timeout */
  idleTimeoutMs?: number;
  /** the caller's cancel (job cancelled or paused) */
  signal?: AbortSignal;
  /** ollama: ask for the reasoning separately (`think: true`); off for models without thinking */
  ollamaThink?: boolean;
}

export interface TimedCompletion extends NormalizedCompletion {
  /** ms from sending the request to the last byte */
  latencyMs: number;
  /** ms to the first byte of the body (streamed) or the whole answer */
  firstByteMs: number;
  /** performance.now() when the request had been handed to the OS (the benchmark's overhead) */
  sentAt?: number;
}

/** Never let a key into a message, even if a server echoes it back. */
export function redactKey(text: string, apiKey: string | undefined): string {
  return apiKey && apiKey.length >= 4 ? text.split(apiKey).join("***") : text;
}

function buildRequest(
  endpoint: TeacherEndpoint,
  messages: ChatMessage[],
  sampling: Sampling,
  stream: boolean,
  think = true,
) {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "*/*" };
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
  if (endpoint.api === "ollama") {
    return {
      url: `${ollamaRoot(endpoint.baseUrl)}/api/chat`,
      headers,
      body: {
        model: endpoint.model,
        messages,
        stream,
        think,
        options: { temperature: sampling.temperature, top_p: sampling.topP, num_predict: sampling.maxTokens },
      },
    };
  }
  return {
    url: endpointUrl(endpoint.baseUrl, "/chat/completions"),
    headers,
    body: {
      model: endpoint.model,
      messages,
      temperature: sampling.temperature,
      top_p: sampling.topP,
      max_tokens: sampling.maxTokens,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
    },
  };
}

/** The messages for one prompt: R1's advice is no system prompt, the instruction in the user turn. */
export function buildMessages(
  prompt: string,
  sampling: Pick<Sampling, "instruction" | "system">,
): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (sampling.system) messages.push({ role: "system", content: sampling.system });
  const instruction = sampling.instruction.trim();
  messages.push({ role: "user", content: instruction ? `${prompt}\n\n${instruction}` : prompt });
  return messages;
}

async function failFromStatus(res: IncomingMessage, endpoint: TeacherEndpoint): Promise<never> {
  const name = endpoint.name;
  const status = res.statusCode ?? 0;
  const text = await readText(res).catch(() => "");
  if (status === 401 || status === 403) {
    throw new TeacherError("auth", `teacher "${name}" rejected the API key (HTTP ${status})`, { status });
  }
  if (status === 429) {
    const header = res.headers["retry-after"];
    const retryAfterMs = parseRetryAfter(Array.isArray(header) ? (header[0] ?? null) : (header ?? null));
    throw new TeacherError("rate_limited", `teacher "${name}" is rate limiting (HTTP 429)`, {
      status: 429,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (status >= 500) {
    throw new TeacherError("server", `teacher "${name}" failed (HTTP ${status})`, { status });
  }
  // a 4xx other than auth and rate limits: the request itself is wrong (unknown model, …)
  let detail = "";
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    detail = typeof j.error === "string" ? j.error : (j.error?.message ?? j.message ?? "");
  } catch {}
  detail = redactKey(detail.replace(/\s+/g, " ").slice(0, 200), endpoint.apiKey);
  throw new TeacherError(
    "bad_request",
    `teacher "${name}" refused the request (HTTP ${status}${detail ? `: ${detail}` : ""})`,
    { status },
  );
}

function describeFetchError(e: unknown, name: string, reason: "timeout" | "cancel" | null): TeacherError {
  if (e instanceof TeacherError) return e;
  if (reason === "timeout")
    return new TeacherError("timeout", `teacher "${name}" stopped answering (timed out)`);
  if (reason === "cancel") return new TeacherError("aborted", "cancelled");
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? (err as { code?: string }).code ?? "";
  if (code === "ETEACHERADDRESS")
    return new TeacherError("bad_request", `teacher "${name}" refused: ${err.message}`);
  // the socket closed mid-answer
  if (
    err.message === "aborted" ||
    err.message === "socket hang up" ||
    err.message === "terminated" ||
    code === "ECONNRESET" ||
    (err as { code?: string }).code === "ECONNRESET"
  ) {
    return new TeacherError("dropped", `teacher "${name}" dropped the connection mid-answer`);
  }
  return new TeacherError(
    "network",
    `teacher "${name}" cannot be reached${code ? ` (${code})` : err.cause?.message ? ` (${err.cause.message})` : ""}`,
  );
}

/**
 * One chat completion from a teacher, streamed or not, normalised. Throws a TeacherError whose
 * kind says whether retrying can help. The idle timeout covers the wait for the headers and
 * every gap between chunks, so a long answer that keeps streaming never times out.
 */
export async function requestCompletion(
  endpoint: TeacherEndpoint,
  messages: ChatMessage[],
  sampling: Sampling,
  options: RequestOptions = {},
): Promise<TimedCompletion> {
  const stream = options.stream ?? true;
  const idleMs = options.idleTimeoutMs ?? 120_000;
  const name = endpoint.name;
  const req = buildRequest(endpoint, messages, sampling, stream, options.ollamaThink ?? true);
  const controller = new AbortController();
  let reason: "timeout" | "cancel" | null = null;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (timer) timer.refresh();
    else
      timer = setTimeout(() => {
        reason = "timeout";
        controller.abort();
      }, idleMs);
  };
  const onCancel = () => {
    reason = "cancel";
    controller.abort();
  };
  if (options.signal?.aborted) throw new TeacherError("aborted", "cancelled");
  options.signal?.addEventListener("abort", onCancel, { once: true });
  const started = performance.now();
  let firstByteMs = 0;
  let sentAt = 0;
  arm();
  try {
    const res = await sendRequest(req.url, {
      method: "POST",
      headers: req.headers,
      body: JSON.stringify(req.body),
      signal: controller.signal,
      onSent: () => {
        sentAt = performance.now();
      },
    });
    arm();
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) await failFromStatus(res, endpoint);
    const type = String(res.headers["content-type"] ?? "");
    if (type.includes("text/html")) {
      res.destroy();
      throw new TeacherError(
        "not_a_teacher",
        `teacher "${name}" answered with an HTML page, not a chat completion`,
      );
    }
    const promptTokensEstimate = estimateTokens(messages.map((m) => m.content).join("\n"));
    let body: OpenAiCompletionBody | OllamaChatBody;
    const onChunk = () => {
      if (firstByteMs === 0) firstByteMs = performance.now() - started;
      arm();
    };
    if (stream && type.includes("text/event-stream")) {
      body = await readOpenAiStream(res, name, onChunk);
    } else if (stream && endpoint.api === "ollama") {
      body = await readOllamaStream(res, name, onChunk);
    } else {
      const text = await readText(res);
      onChunk();
      if (text.trim() === "")
        throw new TeacherError("empty", `teacher "${name}" answered with an empty body`);
      try {
        body = JSON.parse(text);
      } catch {
        throw new TeacherError("malformed", `teacher "${name}" answered with something that is not JSON`);
      }
    }
    const completion = normalizeCompletion(body, { promptTokensEstimate });
    if (!completion) throw new TeacherError("empty", `teacher "${name}" answered with no choice`);
    if (completion.answer === "" && completion.reasoning === null && completion.finishReason !== "length") {
      throw new TeacherError("empty", `teacher "${name}" answered with empty text`);
    }
    const timed: TimedCompletion = { ...completion, latencyMs: performance.now() - started, firstByteMs };
    // when the request's write was seen (the benchmark refuses a row without it)
    if (sentAt) timed.sentAt = sentAt;
    return timed;
  } catch (e) {
    const error = describeFetchError(e, name, reason);
    // a model ollama says cannot think separately: ask again without `think` (inline tags, if any)
    if (
      endpoint.api === "ollama" &&
      options.ollamaThink !== false &&
      error.kind === "bad_request" &&
      /think/i.test(error.message)
    ) {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onCancel);
      return requestCompletion(endpoint, messages, sampling, { ...options, ollamaThink: false });
    }
    // a half-read body holds its connection: drop it
    if (!controller.signal.aborted) controller.abort();
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onCancel);
  }
}
