import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
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
});
