import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { QUEUES } from "@distillery/jobs";
import { type FakeTeacher, startFakeTeacher } from "@distillery/teacher/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";
import type { ResolvedActor } from "@/lib/server/with-route.ts";

vi.mock("server-only", () => ({}));

/** Teachers and generation routes against the real Postgres, Redis and a real HTTP teacher. */
const dataDir = mkdtempSync(join(tmpdir(), "generation-routes-"));
process.env.DISTILLERY_DATA_DIR = dataDir;
process.env.QUEUE_PREFIX = `gr${randomBytes(3).toString("hex")}`;
process.env.DISTILLERY_SECRET_KEY = randomBytes(32).toString("hex");

type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;
const routes = {} as Record<string, Handler>;
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let workspaceId = "";
let teacher: FakeTeacher;
let htmlSite: FakeTeacher;
let role: ResolvedActor["role"] = "owner";

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  teacher = await startFakeTeacher({ apiKey: "sk-route-secret", models: ["fake-r1"] });
  htmlSite = await startFakeTeacher({ isHtmlSite: true });
  const teachers = await import("@/app/api/teachers/route.ts");
  const generations = await import("@/app/api/generations/route.ts");
  Object.assign(routes, {
    addTeacher: teachers.POST,
    listTeachers: teachers.GET,
    testTeacher: (await import("@/app/api/teachers/[teacherId]/test/route.ts")).POST,
    create: generations.POST,
    list: generations.GET,
    get: (await import("@/app/api/generations/[jobId]/route.ts")).GET,
    pause: (await import("@/app/api/generations/[jobId]/pause/route.ts")).POST,
    resume: (await import("@/app/api/generations/[jobId]/resume/route.ts")).POST,
    cancel: (await import("@/app/api/generations/[jobId]/cancel/route.ts")).POST,
    retryFailed: (await import("@/app/api/generations/[jobId]/retry-failed/route.ts")).POST,
  });
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId: "u1", workspaceId, name: "T", email: "t@example.com", role }));
}, 120_000);
afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.queue(QUEUES.generations).obliterate({ force: true });
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await teacher?.close();
  await htmlSite?.close();
  await drop?.();
  await stopServices?.();
});

function route(name: string): Handler {
  const r = routes[name];
  if (!r) throw new Error(`no route ${name}`);
  return r;
}
const params = (p: Record<string, string>) => ({ params: Promise.resolve(p) });
const post = (url: string, body?: unknown) =>
  new Request(`http://x${url}`, {
    method: "POST",
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
const problem = async (res: Response) =>
  (await res.json()) as { detail: string; errors?: { field: string; message: string }[] };

async function addTeacher(body: Record<string, unknown>) {
  return route("addTeacher")(
    post("/api/teachers", { api: "openai", model: "fake-r1", ...body }),
  ) as Promise<Response>;
}

describe("teachers", () => {
  it("refuses a base URL that is not http(s), naming the field", async () => {
    const res = await addTeacher({ name: "ftp", baseUrl: "ftp://example.com/v1" });
    expect(res.status).toBe(400);
    expect((await problem(res)).errors?.[0]?.field).toBe("body.baseUrl");
  });

  it("only admins manage teachers", async () => {
    role = "member";
    try {
      expect((await addTeacher({ name: "m", baseUrl: teacher.baseUrl })).status).toBe(403);
    } finally {
      role = "owner";
    }
  });

  it("keeps the key secret and tests the connection", async () => {
    const res = await addTeacher({
      name: "fake",
      baseUrl: teacher.baseUrl,
      apiKey: "sk-route-secret",
      priceOutPerM: 2,
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain("sk-route-secret");
    const t = JSON.parse(text) as { id: string; hasApiKey: boolean };
    expect(t.hasApiKey).toBe(true);
    const listed = await (route("listTeachers")(new Request("http://x/api/teachers")) as Promise<Response>);
    expect(await listed.text()).not.toContain("sk-route-secret");
    const tested = await (route("testTeacher")(
      post(`/api/teachers/${t.id}/test`),
      params({ teacherId: t.id }),
    ) as Promise<Response>);
    const report = (await tested.json()) as {
      isOk: boolean;
      reasoningSource: string;
      models: string[];
      latencyMs: number;
    };
    expect(report).toMatchObject({ isOk: true, reasoningSource: "reasoning_content", models: ["fake-r1"] });
    expect(report.latencyMs).toBeGreaterThanOrEqual(0);
  });
});

describe("generation jobs", () => {
  const teacherId = async (name: string) =>
    (await db.teacher.findFirstOrThrow({ where: { workspaceId, name } })).id;
  const create = (body: Record<string, unknown>) =>
    route("create")(post("/api/generations", body)) as Promise<Response>;

  it("bad input is refused before any request reaches the teacher", async () => {
    const id = await teacherId("fake");
    const before = teacher.requests.length;
    const missing = await create({
      teacherId: id,
      source: { kind: "prompts", text: '{"question":"1+1"}\n', promptColumn: "prompt" },
    });
    expect(missing.status).toBe(400);
    const p = await problem(missing);
    expect(p.errors?.[0]).toEqual({
      field: "body.source.promptColumn",
      message: 'prompt column "prompt" does not exist (columns: "question")',
    });
    const empty = await create({
      teacherId: id,
      source: { kind: "prompts", text: "", fileName: "prompts.jsonl" },
    });
    expect(empty.status).toBe(400);
    expect((await problem(empty)).errors?.[0]).toMatchObject({
      field: "body.source.text",
      message: "prompts.jsonl: the file is empty",
    });
    const noVersion = await create({ teacherId: id, source: { kind: "version", versionId: "dv_nope" } });
    expect((await problem(noVersion)).errors?.[0]?.field).toBe("body.source.versionId");
    expect(teacher.requests.length).toBe(before);

    await addTeacher({ name: "web page", baseUrl: `${htmlSite.url}/v1` });
    const html = await create({
      teacherId: await teacherId("web page"),
      source: { kind: "prompts", text: "What is 1 + 1?" },
    });
    expect(html.status).toBe(422);
    const hp = await problem(html);
    expect(hp.detail).toMatch(/teacher "web page" answered .* with an HTML page/);
    expect(hp.errors?.[0]?.field).toBe("body.teacherId");
    // an endpoint that answers nothing (nothing listens there)
    const closed = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, "127.0.0.1", () => {
        const port = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    await addTeacher({ name: "nobody", baseUrl: `http://127.0.0.1:${closed}/v1` });
    const gone = await create({
      teacherId: await teacherId("nobody"),
      source: { kind: "prompts", text: "What is 1 + 1?" },
    });
    expect(gone.status).toBe(422);
    expect((await problem(gone)).detail).toMatch(/^teacher "nobody" cannot be reached/);
    expect(await db.generationJob.count()).toBe(0);
  });

  it("creates and queues a job, then pause, resume and cancel", async () => {
    const id = await teacherId("fake");
    const res = await create({
      teacherId: id,
      source: {
        kind: "prompts",
        text: '{"q":"What is 2 + 2?","a":"4"}\n{"q":"What is 3 + 3?","a":"6"}\n',
        promptColumn: "q",
        referenceColumn: "a",
      },
      samplesPerPrompt: 2,
    });
    expect(res.status).toBe(200);
    const job = (await res.json()) as { id: string; total: number };
    expect(job.total).toBe(4);
    const row = await db.generationJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.prompts).toEqual([
      { prompt: "What is 2 + 2?", reference: "4" },
      { prompt: "What is 3 + 3?", reference: "6" },
    ]);
    expect(row.config).toMatchObject({
      sampling: { temperature: 0.6, topP: 0.95 },
      concurrency: 16,
      keepOnlyVerified: true,
    });
    const { getContext } = await import("@/lib/server/context.ts");
    expect(await getContext().producer.queue(QUEUES.generations).getJob(job.id)).toBeTruthy();

    const view = await (route("get")(
      new Request(`http://x/api/generations/${job.id}`),
      params({ jobId: job.id }),
    ) as Promise<Response>);
    expect(await view.json()).toMatchObject({
      status: "queued",
      done: 0,
      total: 4,
      teacher: { name: "fake" },
    });
    const act = async (name: "pause" | "resume" | "cancel") =>
      (
        await (route(name)(
          post(`/api/generations/${job.id}/${name}`),
          params({ jobId: job.id }),
        ) as Promise<Response>)
      ).json();
    expect(await act("pause")).toEqual({ status: "paused" });
    expect(await act("resume")).toEqual({ status: "queued" });
    expect(await act("cancel")).toEqual({ status: "cancelled" });
    const list = (await (
      await (route("list")(new Request("http://x/api/generations")) as Promise<Response>)
    ).json()) as {
      jobs: { id: string; status: string }[];
    };
    expect(list.jobs.find((j) => j.id === job.id)?.status).toBe("cancelled");
  });

  it("the live view: cost so far and estimated total, ETA; retry failed rows re-queues only those", async () => {
    const id = await teacherId("fake");
    const res = await create({
      teacherId: id,
      source: { kind: "prompts", text: "What is 5 + 5?\nWhat is 6 + 6?\n" },
      samplesPerPrompt: 2,
    });
    const job = (await res.json()) as { id: string; total: number };
    expect(job.total).toBe(4);
    const { insertGenerationRows } = await import("@distillery/teacher/store");
    const ok = {
      promptIndex: 0,
      sample: 0,
      status: "ok" as const,
      tries: 1,
      failures: [],
      wallMs: 1,
      completion: {
        reasoning: "r",
        answer: "\\boxed{10}",
        finishReason: "stop",
        usage: { promptTokens: 100, completionTokens: 1000 },
        reasoningSource: "reasoning_content" as const,
        think: "separate" as const,
        latencyMs: 5,
        firstByteMs: 1,
      },
    };
    const failed = {
      promptIndex: 1,
      sample: 0,
      status: "failed" as const,
      tries: 5,
      failures: [],
      wallMs: 1,
      error: 'teacher "fake" failed (HTTP 500)',
    };
    await insertGenerationRows(db, job.id, [
      { row: ok, prompt: "What is 5 + 5?" },
      { row: failed, prompt: "What is 6 + 6?" },
    ]);
    // as the worker leaves it mid-job: running, 0.5 rows/s
    await db.generationJob.update({
      where: { id: job.id },
      data: { status: "running", progress: { rowsPerS: 0.5, tokensPerS: 500, inFlight: 2 } },
    });
    const get = async () =>
      (await (
        await (route("get")(
          new Request(`http://x/api/generations/${job.id}`),
          params({ jobId: job.id }),
        ) as Promise<Response>)
      ).json()) as Record<string, unknown>;
    // priced at 0 in / 2 per 1M out: 1000 tokens out = 0.002 so far; 2 of 4 done: 0.004 in all
    expect(await get()).toMatchObject({
      done: 2,
      failed: 1,
      costSoFar: 0.002,
      costEstimated: 0.004,
      etaSeconds: 4,
      inFlight: 2,
    });
    const retry = () =>
      route("retryFailed")(
        post(`/api/generations/${job.id}/retry-failed`),
        params({ jobId: job.id }),
      ) as Promise<Response>;
    const running = await retry();
    expect(running.status).toBe(409);
    expect((await problem(running)).detail).toBe("cannot retry: the job is running");
    await db.generationJob.update({
      where: { id: job.id },
      data: { status: "succeeded", finishedAt: new Date() },
    });
    expect(await get()).toMatchObject({ etaSeconds: null, inFlight: 0 });
    const retried = await retry();
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ status: "queued", retried: 1 });
    const rows = await db.generationRow.findMany({ where: { jobId: job.id } });
    expect(rows.map((r) => r.status)).toEqual(["ok"]);
    expect((await get()).status).toBe("queued");
    const { getContext } = await import("@/lib/server/context.ts");
    const queued = await getContext().producer.queue(QUEUES.generations).getJobs(["waiting", "delayed"]);
    expect(queued.some((q) => q.id?.startsWith(`${job.id}-retry-`))).toBe(true);
    expect((await retry()).status).toBe(409);
  });
});
