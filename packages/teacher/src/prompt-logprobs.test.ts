import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { requestPromptLogprobs, scoreWithRetries } from "./prompt-logprobs.ts";
import type { TeacherEndpoint } from "./teacher-endpoint.ts";
import { TeacherError } from "./teacher-error.ts";
import { startFakeTeacher } from "./testing/fake-teacher-server.ts";

/**
 * The teachers' client for `prompt_logprobs` against real HTTP servers: a small vLLM-shaped
 * scorer with scripted faults, and the fake teacher answering as OpenAI / ollama do (no field).
 */
type Fault = { status: number; retryAfter?: string; body?: unknown } | "stall";

async function startScorer(faults: Fault[]) {
  const seen: { body: Record<string, unknown>; auth: string | undefined }[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as Record<string, unknown>;
      seen.push({ body, auth: req.headers.authorization });
      const fault = faults.shift();
      if (fault === "stall") {
        open.add(res);
        return;
      }
      if (fault) {
        res.writeHead(fault.status, {
          "content-type": "application/json",
          ...(fault.retryAfter ? { "retry-after": fault.retryAfter } : {}),
        });
        res.end(JSON.stringify(fault.body ?? { error: { message: "busy" } }));
        return;
      }
      // a deterministic "model": at position t the top tokens are t+1, t+2, …; the prompt token
      // itself is added with rank 50 when it is not among them
      const k = body.prompt_logprobs as number;
      const choices = (body.prompt as number[][]).map((ids, index) => ({
        index,
        text: "x",
        finish_reason: "length",
        prompt_logprobs: ids.map((id, t) => {
          if (t === 0) return null;
          const entry: Record<string, { logprob: number; rank: number; decoded_token: string }> = {};
          for (let r = 0; r < k; r++)
            entry[String(t + 1 + r)] = {
              logprob: -0.5 * (r + 1),
              rank: r + 1,
              decoded_token: `t${t + 1 + r}`,
            };
          if (!entry[String(id)]) entry[String(id)] = { logprob: -9, rank: 50, decoded_token: `t${id}` };
          return entry;
        }),
      }));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "cmpl-1", object: "text_completion", choices }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

const endpointAt = (baseUrl: string, apiKey?: string): TeacherEndpoint => ({
  name: "big-r1",
  baseUrl,
  api: "openai",
  model: "r1-70b",
  ...(apiKey ? { apiKey } : {}),
});

describe("requestPromptLogprobs", () => {
  it("sends the ids with max_tokens 1 and reads each position's top-k and its own token", async () => {
    const s = await startScorer([]);
    closers.push(s.close);
    const out = await requestPromptLogprobs(
      endpointAt(s.baseUrl, "sk-secret-1"),
      [
        [7, 2, 3],
        [5, 9],
      ],
      2,
    );
    expect(s.seen[0]?.body).toMatchObject({
      model: "r1-70b",
      prompt: [
        [7, 2, 3],
        [5, 9],
      ],
      max_tokens: 1,
      prompt_logprobs: 2,
    });
    expect(s.seen[0]?.auth).toBe("Bearer sk-secret-1");
    expect(out).toHaveLength(2);
    // position 1 of [7, 2, 3]: top ids 2, 3; the prompt token 2 is rank 1 (in the top)
    expect(out[0]?.[0]).toEqual({
      token: 2,
      logprob: -0.5,
      top: [
        [2, -0.5],
        [3, -1],
      ],
    });
    // position 2: top 3, 4, the token 3 is rank 1 again
    expect(out[0]?.[1]).toEqual({
      token: 3,
      logprob: -0.5,
      top: [
        [3, -0.5],
        [4, -1],
      ],
    });
    // [5, 9] position 1: top 2, 3; token 9 is outside (rank 50): its own logprob, not in the top
    expect(out[1]?.[0]).toEqual({
      token: 9,
      logprob: -9,
      top: [
        [2, -0.5],
        [3, -1],
      ],
    });
  });

  it("an endpoint without prompt_logprobs (OpenAI, ollama) fails naming the teacher and the field, never retried", async () => {
    const fake = await startFakeTeacher({ isWithoutPromptLogprobs: true });
    closers.push(fake.close);
    const endpoint = endpointAt(fake.baseUrl);
    const err = await requestPromptLogprobs(endpoint, [[1, 2, 3]], 5).catch((e) => e);
    expect(err).toBeInstanceOf(TeacherError);
    expect((err as TeacherError).kind).toBe("not_a_teacher");
    expect((err as TeacherError).message).toMatch(
      /teacher "big-r1" \(model r1-70b\).*without `prompt_logprobs`/,
    );
    const retried = await scoreWithRetries(endpoint, [[1, 2, 3]], 5, {
      policy: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 5 },
    }).catch((e) => e);
    expect((retried as TeacherError).kind).toBe("not_a_teacher");
  });
});

describe("scoreWithRetries", () => {
  it("retries 429 (Retry-After as a floor), 5xx and a stalled request, then succeeds", async () => {
    const s = await startScorer([
      { status: 429, retryAfter: "0.05" },
      { status: 503 },
      "stall",
      { status: 500 },
    ]);
    closers.push(s.close);
    const retries: { kind: string; delayMs: number }[] = [];
    const out = await scoreWithRetries(endpointAt(s.baseUrl), [[4, 5]], 1, {
      policy: { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 5 },
      timeoutMs: 300,
      onRetry: (e, delayMs) => retries.push({ kind: e.kind, delayMs }),
    });
    expect(out[0]?.[0]?.token).toBe(5);
    expect(s.seen).toHaveLength(5);
    expect(retries.map((r) => r.kind)).toEqual(["rate_limited", "server", "timeout", "server"]);
    expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(50);
  });

  it("gives up after the policy's tries with the last reason; auth is thrown at once; the key never shows", async () => {
    const s = await startScorer([{ status: 502 }, { status: 502 }]);
    closers.push(s.close);
    const err = await scoreWithRetries(endpointAt(s.baseUrl), [[1, 2]], 1, {
      policy: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    }).catch((e) => e);
    expect((err as TeacherError).kind).toBe("server");
    expect((err as TeacherError).message).toBe('teacher "big-r1" failed (HTTP 502)');

    const key = "sk-very-secret-key";
    const a = await startScorer([
      { status: 401 },
      { status: 400, body: { error: { message: `bad key ${key} in body` } } },
    ]);
    closers.push(a.close);
    const auth = await scoreWithRetries(endpointAt(a.baseUrl, key), [[1, 2]], 1).catch((e) => e);
    expect((auth as TeacherError).kind).toBe("auth");
    expect(a.seen).toHaveLength(1);
    const echoed = await requestPromptLogprobs(endpointAt(a.baseUrl, key), [[1, 2]], 1).catch((e) => e);
    expect((echoed as TeacherError).kind).toBe("bad_request");
    expect((echoed as TeacherError).message).toContain("bad key *** in body");
    expect((echoed as TeacherError).message).not.toContain(key);
  });
});
