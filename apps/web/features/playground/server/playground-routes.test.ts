import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerModelDir } from "@distillery/catalog";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createTinyModel } from "@distillery/engine-local";
import { createFsBlobStore } from "@distillery/storage";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";

vi.mock("server-only", () => ({}));

const dataDir = mkdtempSync(join(tmpdir(), "playground-routes-"));
process.env.DISTILLERY_DATA_DIR = dataDir;
process.env.DISTILLERY_AUTH = "local";
type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;
let routes: Record<"create" | "list" | "get" | "put" | "render", Handler>;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let stopServices: (() => Promise<void>) | undefined;
let userId = "";
let workspaceId = "";

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  ({ workspaceId, userId } = await ensureDefaultWorkspace(db));
  const dir = join(dataDir, "tiny");
  createTinyModel(dir, {
    corpus: ["What is 1 + 1? 2"],
    vocabSize: 270,
    hiddenSize: 16,
    intermediateSize: 32,
    numLayers: 1,
    numHeads: 2,
    numKvHeads: 1,
    maxPositions: 64,
    template: "phi3",
  });
  await registerModelDir(db, createFsBlobStore(join(dataDir, "blobs")), { workspaceId, name: "tiny", dir });
  const list = await import("@/app/api/playground/conversations/route.ts");
  const one = await import("@/app/api/playground/conversations/[conversationId]/route.ts");
  routes = {
    create: list.POST,
    list: list.GET,
    get: one.GET,
    put: one.PUT,
    render: (await import("@/app/api/playground/render/route.ts")).POST,
  };
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId, workspaceId, name: "T", email: "t@example.com" }));
}, 120_000);

afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await drop?.();
  await stopServices?.();
});

const params = (p: Record<string, string>) => ({ params: Promise.resolve(p) });
const json = (body: unknown, method = "POST") => ({ method, body: JSON.stringify(body) });

describe("playground routes", () => {
  it("saves a conversation, lists it, updates it and opens it again", async () => {
    const data = {
      models: ["tiny"],
      turns: [{ user: "What is 1 + 1?", replies: [{ content: "<b>2</b>" }] }],
    };
    const created = await routes.create(new Request("http://x/api/playground/conversations", json({ data })));
    expect(created.status).toBe(201);
    const { id, title } = (await created.json()) as { id: string; title: string };
    expect(title).toBe("What is 1 + 1?");
    const listed = (await (
      await routes.list(new Request("http://x/api/playground/conversations"))
    ).json()) as { conversations: { id: string }[] };
    expect(listed.conversations.map((c) => c.id)).toContain(id);
    const more = { ...data, turns: [...data.turns, { user: "and 2 + 2?", replies: [{ content: "4" }] }] };
    expect(
      (
        await routes.put(
          new Request(`http://x/api/playground/conversations/${id}`, json({ data: more }, "PUT")),
          params({ conversationId: id }),
        )
      ).status,
    ).toBe(200);
    const opened = (await (
      await routes.get(
        new Request(`http://x/api/playground/conversations/${id}`),
        params({ conversationId: id }),
      )
    ).json()) as {
      data: { turns: { replies: { content: string }[] }[] };
    };
    expect(opened.data.turns.map((t) => t.replies[0]?.content)).toEqual(["<b>2</b>", "4"]);
    const tooMany = await routes.create(
      new Request("http://x/api/playground/conversations", json({ data: { models: ["a", "b", "c", "d"] } })),
    );
    expect(tooMany.status).toBe(400);
  });

  it("renders the prompt a model sees with its chat template", async () => {
    const res = await routes.render(
      new Request(
        "http://x/api/playground/render",
        json({
          model: "tiny",
          messages: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "Hi" },
          ],
        }),
      ),
    );
    expect(res.status).toBe(200);
    const r = (await res.json()) as { prompt: string; specialTokens: string[] };
    expect(r.prompt).toBe("<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n");
    expect(r.specialTokens).toContain("<|end|>");
    const unknown = await routes.render(
      new Request(
        "http://x/api/playground/render",
        json({ model: "nope", messages: [{ role: "user", content: "x" }] }),
      ),
    );
    expect(unknown.status).toBe(400);
  });
});
