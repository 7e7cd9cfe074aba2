import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Db, ensureDefaultWorkspace, type Prisma } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createFsBlobStore } from "@distillery/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listTokenizerModels } from "./tokenizer-models.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
const store = createFsBlobStore(mkdtempSync(join(tmpdir(), "catalog-tok-")));
const exists = (key: string) => store.exists(key);

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase(testAdminDatabaseUrl()));
  ({ workspaceId } = await ensureDefaultWorkspace(db));
});
afterAll(async () => drop());

let clock = Date.UTC(2026, 0, 1);
async function addModel(
  name: string,
  kind: string | null,
  opts: { tokenizer?: boolean; location?: string } = {},
) {
  const id = `mdl_${name}`;
  clock += 60_000;
  const location = opts.location ?? `blob:models/${id}`;
  if (opts.tokenizer !== false && location.startsWith("blob:"))
    await store.put(`models/${id}/tokenizer.json`, Buffer.from("{}"));
  await db.model.create({
    data: {
      id,
      workspaceId,
      name,
      location,
      createdAt: new Date(clock),
      facts: (kind ? { source: { kind } } : {}) as Prisma.InputJsonValue,
    },
  });
}

describe("models that can count a version's tokens", () => {
  it("lists the models the user brought, newest first, before the ones runs registered", async () => {
    expect(await listTokenizerModels(db, exists, workspaceId)).toEqual([]);
    await addModel("demo-init", "run");
    await addModel("smollm", "hub");
    await addModel("no-tokenizer", "hub", { tokenizer: false });
    await addModel("on-a-worker", "path", { location: "/models/x" });
    await addModel("demo-distilled", "run");
    await addModel("my-upload", "upload");
    const models = await listTokenizerModels(db, exists, workspaceId);
    expect(models.map((m) => m.name)).toEqual(["my-upload", "smollm", "demo-distilled", "demo-init"]);
    expect(models[0]?.tokenizerKey).toBe("models/mdl_my-upload/tokenizer.json");
  });
});
