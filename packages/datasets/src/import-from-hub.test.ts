import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFsRowSink } from "./fs-row-sink.ts";
import { listHubParquetFiles } from "./hub-parquet-files.ts";
import { importFromHub } from "./import-from-hub.ts";
import { readVersionRows } from "./read-version-rows.ts";

/** A stand-in for huggingface.co and datasets-server.huggingface.co serving the same routes. */
const shard = (from: number) =>
  Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: "instruction", data: [0, 1, 2].map((i) => `question ${from + i}`) },
        {
          name: "response",
          data: [0, 1, 2].map((i) => `<think>\nsteps ${from + i}\n</think>\n\nanswer ${from + i}`),
        },
      ],
    }),
  );
const shards: Record<string, Buffer> = { "0000.parquet": shard(0), "0001.parquet": shard(3) };
const requests: { url: string; auth: string | undefined }[] = [];
let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hub-test-"));
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push({ url: url.pathname + url.search, auth: req.headers.authorization });
    const dataset = url.searchParams.get("dataset") ?? url.pathname.split("/").slice(3, 5).join("/");
    if (dataset.startsWith("gated/") && req.headers.authorization !== "Bearer secret") {
      res.writeHead(401).end('{"error":"gated"}');
      return;
    }
    const json = (body: unknown) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (url.pathname === "/parquet") {
      if (dataset === "missing/set") return void res.writeHead(404).end("{}");
      const files = Object.keys(shards).map((f) => ({
        dataset,
        config: "default",
        split: "train",
        url: `${base}/datasets/${dataset}/resolve/refs%2Fconvert%2Fparquet/default/train/${f}`,
        filename: f,
        size: shards[f]?.length,
      }));
      return void json({
        parquet_files: [...files, { ...files[0], split: "test" }],
        pending: [],
        failed: [],
        partial: false,
      });
    }
    const api = url.pathname.match(/^\/api\/datasets\/([^/]+\/[^/]+)\/parquet\/([^/]+)\/([^/]+)$/);
    if (api)
      return void json(
        Object.keys(shards).map((f) => `${base}/datasets/${api[1]}/resolve/x/${api[2]}/${api[3]}/${f}`),
      );
    const file = url.pathname.match(/\/(\d{4}\.parquet)$/);
    if (file?.[1] && shards[file[1]]) return void res.writeHead(200).end(shards[file[1]]);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

const urls = () => ({ hubUrl: base, datasetsServerUrl: base });

describe("Hugging Face Hub import", () => {
  it("resolves the train split through /parquet and streams every shard into one version", async () => {
    const out = join(dir, "v1");
    const report = await importFromHub({
      dataset: "Magpie-Align/tiny",
      ...urls(),
      sink: createFsRowSink({ dir: out }),
    });
    expect(report.shape).toBe("magpie");
    expect(report.rows).toBe(6);
    expect(report.files.map((f) => f.format)).toEqual(["parquet", "parquet"]);
    const rows = [];
    for await (const r of readVersionRows(report.sink.location)) rows.push(r);
    expect(rows.map((r) => r.answer)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `answer ${i}`));
  });
  it("sends the bearer token for gated datasets and explains a refusal", async () => {
    const sink = () => createFsRowSink({ dir: join(dir, `g${Math.random()}`) });
    await expect(importFromHub({ dataset: "gated/set", ...urls(), sink: sink() })).rejects.toThrow(
      /gated or private: add a Hugging Face token/,
    );
    const report = await importFromHub({ dataset: "gated/set", token: "secret", ...urls(), sink: sink() });
    expect(report.rows).toBe(6);
    expect(
      requests
        .filter((r) => r.url.includes("gated"))
        .every((r) => r.auth === "Bearer secret" || r.auth === undefined),
    ).toBe(true);
  });
  it("falls back to /api/datasets/{id}/parquet/{config}/{split} and names missing splits", async () => {
    const files = await listHubParquetFiles({
      dataset: "missing/set",
      config: "default",
      split: "train",
      ...urls(),
    });
    expect(files.map((f) => f.filename)).toEqual(["0000.parquet", "0001.parquet"]);
    await expect(listHubParquetFiles({ dataset: "a/b", split: "validation", ...urls() })).rejects.toThrow(
      /no split "validation"; it has: train, test/,
    );
    await expect(listHubParquetFiles({ dataset: "../etc", ...urls() })).rejects.toThrow(/owner\/name/);
  });
  it("leaves nothing behind when the listing fails", async () => {
    const out = join(dir, "v-missing");
    await expect(
      importFromHub({ dataset: "missing/set", ...urls(), sink: createFsRowSink({ dir: out }) }),
    ).rejects.toThrow(/not found/);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });
});
