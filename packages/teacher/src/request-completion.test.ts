import { afterEach, describe, expect, it } from "vitest";
import { listTeacherModels } from "./list-models.ts";
import { requestCompletion } from "./request-completion.ts";
import { type TeacherEndpoint, ZSampling } from "./teacher-endpoint.ts";
import { TeacherError } from "./teacher-error.ts";
import { testTeacherConnection } from "./test-teacher-connection.ts";
import { type FakeTeacher, type ReasoningShape, startFakeTeacher } from "./testing/fake-teacher-server.ts";

const sampling = ZSampling.parse({});
const ask = [{ role: "user" as const, content: "What is 47 + 85?" }];
let server: FakeTeacher | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const endpoint = (s: FakeTeacher, extra: Partial<TeacherEndpoint> = {}): TeacherEndpoint => ({
  name: "fake",
  baseUrl: s.baseUrl,
  api: "openai",
  model: "fake-r1",
  ...extra,
});

async function failure(p: Promise<unknown>): Promise<TeacherError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TeacherError) return e;
    throw e;
  }
  throw new Error("expected a failure");
}

describe("requestCompletion reads every shape", () => {
  const shapes: [ReasoningShape, string][] = [
    ["reasoning_content", "reasoning_content"],
    ["reasoning", "reasoning"],
    ["inline", "inline"],
    ["inline-opened", "inline"],
  ];
  for (const [shape, source] of shapes) {
    for (const stream of [true, false]) {
      it(`${shape}, ${stream ? "SSE" : "JSON"}`, async () => {
        server = await startFakeTeacher({ reasoning: shape });
        const c = await requestCompletion(endpoint(server), ask, sampling, { stream });
        expect(c.reasoningSource).toBe(source);
        expect(c.reasoning).toContain("47 + 85 = 132");
        expect(c.answer).toBe("The sum is \\boxed{132}.");
        expect(c.finishReason).toBe("stop");
        expect(c.usage.completionTokens).toBeGreaterThan(0);
        expect(c.usage.isEstimated).toBeUndefined();
      });
    }
  }

  for (const stream of [true, false]) {
    it(`ollama /api/chat with think: true, ${stream ? "NDJSON" : "JSON"}`, async () => {
      server = await startFakeTeacher({ chunkIntervalMs: stream ? 1 : 0 });
      const c = await requestCompletion(
        endpoint(server, { api: "ollama", baseUrl: `${server.url}/v1` }),
        ask,
        sampling,
        {
          stream,
        },
      );
      expect(c).toMatchObject({
        reasoningSource: "thinking",
        answer: "The sum is \\boxed{132}.",
        finishReason: "stop",
      });
      expect(c.reasoning).toContain("47 + 85 = 132");
      expect(server.requests[0]?.path).toBe("/api/chat");
    });
  }

  it("ollama: a model that cannot think separately is asked again without think (inline tags)", async () => {
    server = await startFakeTeacher({ isOllamaWithoutThinking: true });
    const c = await requestCompletion(endpoint(server, { api: "ollama" }), ask, sampling);
    expect(c).toMatchObject({ reasoningSource: "inline", answer: "The sum is \\boxed{132}." });
    expect(server.requests).toHaveLength(2);
  });

  it("a cut answer: unclosed inline think, finish length", async () => {
    server = await startFakeTeacher({ reasoning: "inline", faults: [{ kind: "length" }] });
    const c = await requestCompletion(endpoint(server), ask, sampling);
    expect(c).toMatchObject({ finishReason: "length", think: "unclosed", answer: "" });
  });

  it("lists models from /v1/models and /api/tags", async () => {
    server = await startFakeTeacher({ models: ["a", "b"] });
    expect(await listTeacherModels(endpoint(server))).toEqual(["a", "b"]);
    expect(await listTeacherModels(endpoint(server, { api: "ollama" }))).toEqual(["a", "b"]);
  });
});

describe("requestCompletion classifies each fault", () => {
  it("429 carries Retry-After", async () => {
    server = await startFakeTeacher({ faults: [{ kind: "429", retryAfterS: 3 }] });
    const e = await failure(requestCompletion(endpoint(server), ask, sampling));
    expect(e).toMatchObject({ kind: "rate_limited", retryAfterMs: 3000, isRetryable: true });
  });

  it("500 is a retryable server error", async () => {
    server = await startFakeTeacher({ faults: [{ kind: "500" }] });
    expect(await failure(requestCompletion(endpoint(server), ask, sampling))).toMatchObject({
      kind: "server",
      isRetryable: true,
    });
  });

  it("a stall past the idle timeout, before the headers and mid-stream", async () => {
    server = await startFakeTeacher({ faults: [{ kind: "stall", times: 1 }], chunkIntervalMs: 0 });
    const e1 = await failure(
      requestCompletion(endpoint(server), ask, sampling, { stream: false, idleTimeoutMs: 200 }),
    );
    expect(e1).toMatchObject({ kind: "timeout", isRetryable: true });
    server.addFaults([{ kind: "stall" }]);
    const e2 = await failure(
      requestCompletion(endpoint(server), ask, sampling, { stream: true, idleTimeoutMs: 200 }),
    );
    expect(e2.kind).toBe("timeout");
  });

  it("a connection dropped mid-stream", async () => {
    server = await startFakeTeacher({ faults: [{ kind: "drop" }] });
    expect(await failure(requestCompletion(endpoint(server), ask, sampling))).toMatchObject({
      kind: "dropped",
      isRetryable: true,
    });
  });

  it("a malformed chunk", async () => {
    server = await startFakeTeacher({ faults: [{ kind: "malformed" }] });
    expect(await failure(requestCompletion(endpoint(server), ask, sampling))).toMatchObject({
      kind: "malformed",
    });
  });

  it("an empty choice, streamed or not", async () => {
    server = await startFakeTeacher({ faults: [{ kind: "empty", times: 2 }] });
    expect((await failure(requestCompletion(endpoint(server), ask, sampling))).kind).toBe("empty");
    expect((await failure(requestCompletion(endpoint(server), ask, sampling, { stream: false }))).kind).toBe(
      "empty",
    );
  });

  it("401 names the teacher, is not retryable and never shows the key", async () => {
    server = await startFakeTeacher({ apiKey: "right-key" });
    const e = await failure(
      requestCompletion(endpoint(server, { name: "R1 prod", apiKey: "sk-wrong-secret" }), ask, sampling),
    );
    expect(e).toMatchObject({ kind: "auth", isRetryable: false });
    expect(e.message).toContain('"R1 prod"');
    expect(e.message).not.toContain("sk-wrong-secret");
    const ok = await requestCompletion(endpoint(server, { apiKey: "right-key" }), ask, sampling);
    expect(ok.answer).toContain("132");
  });

  it("HTML or nothing is not a teacher", async () => {
    server = await startFakeTeacher({ faults: [{ kind: "html" }, { kind: "nothing" }] });
    expect((await failure(requestCompletion(endpoint(server), ask, sampling))).kind).toBe("not_a_teacher");
    expect((await failure(requestCompletion(endpoint(server), ask, sampling, { stream: false }))).kind).toBe(
      "empty",
    );
  });

  it("a server that is not there", async () => {
    server = await startFakeTeacher();
    const url = server.baseUrl;
    await server.close();
    server = undefined;
    const e = await failure(
      requestCompletion({ name: "gone", baseUrl: url, api: "openai", model: "m" }, ask, sampling),
    );
    expect(e).toMatchObject({ kind: "network", isRetryable: true });
    expect(e.message).toContain('"gone"');
  });
});

describe("testTeacherConnection", () => {
  it("reports models, latency and where the reasoning came back", async () => {
    server = await startFakeTeacher({ models: ["fake-r1"], reasoning: "reasoning" });
    const r = await testTeacherConnection(endpoint(server));
    expect(r).toMatchObject({
      isOk: true,
      models: ["fake-r1"],
      hasModel: true,
      reasoningSource: "reasoning",
      error: null,
    });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("names the teacher when the endpoint answers nothing, or is not there", async () => {
    const { createServer } = await import("node:http");
    const silent = createServer((_req, res) => res.end());
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = await testTeacherConnection({
        name: "silent",
        baseUrl: `http://127.0.0.1:${port}/v1`,
        api: "openai",
        model: "m",
      });
      expect(r).toMatchObject({ isOk: false, errorKind: "not_a_teacher" });
      expect(r.error).toBe(`teacher "silent" answered http://127.0.0.1:${port}/v1/models with nothing`);
    } finally {
      silent.close();
    }
    const gone = await testTeacherConnection({
      name: "gone",
      baseUrl: `http://127.0.0.1:${port}/v1`,
      api: "openai",
      model: "m",
    });
    expect(gone).toMatchObject({ isOk: false, errorKind: "network" });
    expect(gone.error).toContain('teacher "gone" cannot be reached');
  });

  it("names the teacher when the URL serves a web page", async () => {
    server = await startFakeTeacher({ isHtmlSite: true });
    const r = await testTeacherConnection(endpoint(server, { name: "my site" }));
    expect(r.isOk).toBe(false);
    expect(r.errorKind).toBe("not_a_teacher");
    expect(r.error).toMatch(/"my site".*HTML/);
    expect(server.requests).toHaveLength(0);
  });
});
