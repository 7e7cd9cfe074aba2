import type { IncomingMessage } from "node:http";
import { readText, sendRequest } from "./http-send.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { redactKey } from "./request-completion.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetries } from "./retry-policy.ts";
import { endpointUrl, type TeacherEndpoint } from "./teacher-endpoint.ts";
import { parseRetryAfter, TeacherError } from "./teacher-error.ts";

/**
 * A teacher endpoint as a distillation teacher: vLLM's `/v1/completions` extension
 * `prompt_logprobs: k` scores a sequence given as token ids (max_tokens 1). Each choice carries
 * `prompt_logprobs`: null for the first token, then per token a map token id → {logprob, rank,
 * decoded_token} holding the k most likely tokens and the prompt token itself (k + 1 entries when
 * it is not among them). The studio's own serving (packages/inference) answers the same way.
 */
export interface ScoredPosition {
  /** the sequence's token at this position (position t scores ids[t], t ≥ 1) */
  token: number;
  /** the teacher's log-probability of `token` */
  logprob: number;
  /** the k most likely tokens, best first */
  top: [number, number][];
}

export interface PromptLogprobsOptions {
  signal?: AbortSignal;
  /** no answer within this long: a `timeout` (retried) */
  timeoutMs?: number;
}

type PromptLogprobEntry = { logprob?: unknown; rank?: unknown } | null;

async function failFromStatus(res: IncomingMessage, endpoint: TeacherEndpoint): Promise<never> {
  const { name } = endpoint;
  const status = res.statusCode ?? 0;
  const text = await readText(res).catch(() => "");
  const header = res.headers["retry-after"];
  const retryAfterMs = parseRetryAfter(Array.isArray(header) ? (header[0] ?? null) : (header ?? null));
  const extra = { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  if (status === 401 || status === 403)
    throw new TeacherError("auth", `teacher "${name}" rejected the API key (HTTP ${status})`, { status });
  if (status === 429)
    throw new TeacherError("rate_limited", `teacher "${name}" is rate limiting (HTTP 429)`, extra);
  if (status >= 500) throw new TeacherError("server", `teacher "${name}" failed (HTTP ${status})`, extra);
  let detail = "";
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    detail = typeof j.error === "string" ? j.error : (j.error?.message ?? j.message ?? "");
  } catch {}
  detail = redactKey(detail.replace(/\s+/g, " ").slice(0, 300), endpoint.apiKey);
  throw new TeacherError(
    "bad_request",
    `teacher "${name}" refused the scoring request (HTTP ${status}${detail ? `: ${detail}` : ""})`,
    { status },
  );
}

function missingField(endpoint: TeacherEndpoint): TeacherError {
  return new TeacherError(
    "not_a_teacher",
    `teacher "${endpoint.name}" (model ${endpoint.model}) answered /v1/completions without \`prompt_logprobs\`: it cannot be a logit or on-policy teacher (vLLM and the studio's own serving return it; OpenAI's API and ollama do not)`,
  );
}

/** One choice's `prompt_logprobs` as scored positions (1 … n − 1), checked against the ids sent. */
function parseChoice(
  endpoint: TeacherEndpoint,
  ids: number[],
  raw: unknown,
  k: number,
  row: number,
): ScoredPosition[] {
  if (!Array.isArray(raw)) throw missingField(endpoint);
  if (raw.length !== ids.length)
    throw new TeacherError(
      "malformed",
      `teacher "${endpoint.name}": prompt_logprobs of sequence ${row} has ${raw.length} entries for ${ids.length} prompt tokens`,
    );
  const out: ScoredPosition[] = [];
  for (let t = 1; t < ids.length; t++) {
    const entry = raw[t] as Record<string, PromptLogprobEntry> | null;
    const token = ids[t] as number;
    if (!entry || typeof entry !== "object")
      throw new TeacherError(
        "malformed",
        `teacher "${endpoint.name}": prompt_logprobs[${t}] of sequence ${row} is empty`,
      );
    const all: { id: number; logprob: number; rank: number }[] = [];
    for (const [key, v] of Object.entries(entry)) {
      const id = Number(key);
      const logprob = typeof v?.logprob === "number" ? v.logprob : Number.NaN;
      if (!Number.isInteger(id) || Number.isNaN(logprob))
        throw new TeacherError(
          "malformed",
          `teacher "${endpoint.name}": prompt_logprobs[${t}] of sequence ${row} has an unreadable entry ${JSON.stringify(key)}`,
        );
      all.push({ id, logprob, rank: typeof v?.rank === "number" ? v.rank : Number.POSITIVE_INFINITY });
    }
    const own = all.find((e) => e.id === token);
    if (!own)
      throw new TeacherError(
        "malformed",
        `teacher "${endpoint.name}": prompt_logprobs[${t}] of sequence ${row} lacks the prompt token ${token} (other ids than sent, or another tokenizer)`,
      );
    // the prompt token is one of the top k only when its rank says so
    const top = all
      .filter((e) => e.id !== token || e.rank <= k)
      .sort((a, b) => b.logprob - a.logprob || a.id - b.id)
      .slice(0, k)
      .map((e): [number, number] => [e.id, e.logprob]);
    out.push({ token, logprob: own.logprob, top });
  }
  return out;
}

/**
 * Scores sequences (token ids) with the endpoint in one `/v1/completions` request: per sequence,
 * the teacher's top-k log-probabilities at every position after the first and the log-probability
 * of the sequence's own token. A teacher without `prompt_logprobs` fails as `not_a_teacher`,
 * naming the field (never retried).
 */
export async function requestPromptLogprobs(
  endpoint: TeacherEndpoint,
  sequences: number[][],
  k: number,
  options: PromptLogprobsOptions = {},
): Promise<ScoredPosition[][]> {
  if (endpoint.api !== "openai")
    throw new TeacherError(
      "not_a_teacher",
      `teacher "${endpoint.name}" speaks ollama's /api/chat, which has no \`prompt_logprobs\`: logit and on-policy distillation need an OpenAI-compatible server that returns it (vLLM)`,
    );
  if (options.signal?.aborted) throw new TeacherError("aborted", "cancelled");
  const controller = new AbortController();
  let reason: "timeout" | "cancel" | null = null;
  const timer = setTimeout(() => {
    reason = "timeout";
    controller.abort();
  }, options.timeoutMs ?? 120_000);
  const onCancel = () => {
    reason = "cancel";
    controller.abort();
  };
  options.signal?.addEventListener("abort", onCancel, { once: true });
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
  try {
    const res = await sendRequest(endpointUrl(endpoint.baseUrl, "/completions"), {
      method: "POST",
      headers,
      body: JSON.stringify({
        model: endpoint.model,
        prompt: sequences,
        max_tokens: 1,
        temperature: 0,
        prompt_logprobs: k,
      }),
      signal: controller.signal,
    });
    if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) await failFromStatus(res, endpoint);
    const text = await readText(res);
    let body: { choices?: { index?: number; prompt_logprobs?: unknown }[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new TeacherError(
        "malformed",
        `teacher "${endpoint.name}" answered with something that is not JSON`,
      );
    }
    const choices = Array.isArray(body.choices) ? body.choices : [];
    if (choices.length === 0)
      throw new TeacherError("empty", `teacher "${endpoint.name}" answered with no choice`);
    if (choices.every((c) => c.prompt_logprobs === undefined || c.prompt_logprobs === null))
      throw missingField(endpoint);
    return sequences.map((ids, row) => {
      const choice = choices.find((c, i) => (c.index ?? i) === row);
      if (!choice)
        throw new TeacherError(
          "malformed",
          `teacher "${endpoint.name}" answered without a choice for sequence ${row}`,
        );
      return parseChoice(endpoint, ids, choice.prompt_logprobs, k, row);
    });
  } catch (e) {
    if (e instanceof TeacherError) throw e;
    if (reason === "timeout")
      throw new TeacherError("timeout", `teacher "${endpoint.name}" stopped answering (timed out)`);
    if (reason === "cancel") throw new TeacherError("aborted", "cancelled");
    const err = e as Error & { code?: string };
    if (err.code === "ETEACHERADDRESS")
      throw new TeacherError("bad_request", `teacher "${endpoint.name}" refused: ${err.message}`);
    if (err.code === "ECONNRESET" || err.message === "socket hang up" || err.message === "aborted")
      throw new TeacherError("dropped", `teacher "${endpoint.name}" dropped the connection mid-answer`);
    throw new TeacherError(
      "network",
      `teacher "${endpoint.name}" cannot be reached${err.code ? ` (${err.code})` : ""}`,
    );
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onCancel);
  }
}

/**
 * requestPromptLogprobs with the teachers' retry policy (429 / 5xx / stalls / dropped
 * connections, Retry-After as a floor) and rate limit; a final failure is thrown.
 */
export async function scoreWithRetries(
  endpoint: TeacherEndpoint,
  sequences: number[][],
  k: number,
  options: PromptLogprobsOptions & {
    policy?: RetryPolicy;
    limiter?: RateLimiter;
    onRetry?: (error: TeacherError, delayMs: number) => void;
  } = {},
): Promise<ScoredPosition[][]> {
  const tokens = sequences.reduce((s, ids) => s + ids.length, 0);
  const outcome = await withRetries(
    async () => {
      await options.limiter?.acquire(tokens, options.signal);
      return requestPromptLogprobs(endpoint, sequences, k, options);
    },
    { policy: options.policy ?? DEFAULT_RETRY_POLICY, signal: options.signal, onRetry: options.onRetry },
  );
  if (outcome.error) throw outcome.error;
  return outcome.value as ScoredPosition[][];
}
