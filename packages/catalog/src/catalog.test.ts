import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CanonicalExample } from "@distillery/core";
import { readVersionRows } from "@distillery/datasets";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createFsBlobStore } from "@distillery/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatasetVersion, ensureDataset } from "./dataset-versions.ts";
import { countLlamaParameters, registerModelDir } from "./models.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
const store = createFsBlobStore(mkdtempSync(join(tmpdir(), "catalog-blobs-")));
const row = (i: number): CanonicalExample => ({
  messages: [{ role: "user", content: `What is ${i} + ${i}?` }],
  reasoning: `${i} + ${i} = ${2 * i}`,
  answer: String(2 * i),
  think: "ok",
});

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase(testAdminDatabaseUrl()));
  ({ workspaceId } = await ensureDefaultWorkspace(db));
});
afterAll(async () => drop());

describe("dataset versions", () => {
  it("commits rows to blob storage, then records the version as ready with the next number", async () => {
    const ds = await ensureDataset(db, { workspaceId, name: "arith" });
    const write =
      (n: number) =>
      async (sink: { write: (r: CanonicalExample[]) => Promise<void>; commit: () => Promise<unknown> }) => {
        await sink.write(Array.from({ length: n }, (_, i) => row(i)));
        await sink.commit();
        return {};
      };
    const v1 = await createDatasetVersion(db, store, {
      workspaceId,
      datasetId: ds.id,
      operation: { kind: "import" },
      write: write(5),
    });
    const v2 = await createDatasetVersion(db, store, {
      workspaceId,
      datasetId: ds.id,
      parentId: v1.id,
      operation: { kind: "filter" },
      write: write(3),
    });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(v2).toMatchObject({ status: "ready", rowCount: 3, parentId: v1.id });
    const rows: CanonicalExample[] = [];
    for await (const r of readVersionRows(store.localPath(v1.blobKey ?? "") ?? "")) rows.push(r);
    expect(rows.map((r) => r.answer)).toEqual(["0", "2", "4", "6", "8"]);
  });

  it("leaves neither a version row nor rows behind when the write fails", async () => {
    const ds = await ensureDataset(db, { workspaceId, name: "broken" });
    await expect(
      createDatasetVersion(db, store, {
        workspaceId,
        datasetId: ds.id,
        operation: { kind: "import" },
        write: async (sink) => {
          await sink.write([row(1)]);
          throw new Error("line 7: not JSON");
        },
      }),
    ).rejects.toThrow("line 7: not JSON");
    expect(await db.datasetVersion.count({ where: { datasetId: ds.id } })).toBe(0);
    expect(await store.list(`datasets/${ds.id}/`)).toEqual([]);
  });
});

describe("models", () => {
  it("uploads a model directory and records its size and chat template", async () => {
    const dir = mkdtempSync(join(tmpdir(), "model-"));
    const config = {
      model_type: "llama",
      hidden_size: 8,
      intermediate_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      vocab_size: 10,
      tie_word_embeddings: false,
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ chat_template: "{{ messages }}" }));
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "sub", "x.bin"), "x");
    const model = await registerModelDir(db, store, { workspaceId, name: "tiny", dir });
    expect(model.location).toBe(`blob:models/${model.id}`);
    expect(model.chatTemplate).toBe("{{ messages }}");
    expect(model.config).toEqual(config);
    // embeddings 10×8 ×2 + per layer (q 64 + o 64 + k 32 + v 32 + mlp 3×128 + norms 16) ×2 + final norm 8
    expect(Number(model.parameters)).toBe(countLlamaParameters(config));
    expect(countLlamaParameters(config)).toBe(160 + 2 * (64 + 64 + 32 + 32 + 384 + 16) + 8);
    expect(await store.list(`models/${model.id}/`)).toEqual([
      `models/${model.id}/config.json`,
      `models/${model.id}/sub/x.bin`,
      `models/${model.id}/tokenizer_config.json`,
    ]);
    await expect(registerModelDir(db, store, { workspaceId, name: "nope", dir: tmpdir() })).rejects.toThrow(
      /config.json is missing/,
    );
  });
});
