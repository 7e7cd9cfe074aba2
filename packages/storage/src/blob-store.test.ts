import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
// s3rver: a real S3-protocol server in Node, standing in for MinIO/S3 (which cannot run here)
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobNotFoundError, type BlobStore, InvalidBlobKeyError } from "./blob-store.ts";
import { createBlobStore, ZS3Env } from "./create-blob-store.ts";
import { createFsBlobStore } from "./fs-blob-store.ts";
import { createS3BlobStore } from "./s3-blob-store.ts";

let s3server: S3rver;
let s3port = 0;
beforeAll(async () => {
  s3server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: mkdtempSync(join(tmpdir(), "s3rver-")),
    configureBuckets: [{ name: "distillery-test", configs: [] }],
  });
  const address = (await s3server.run()) as { port: number };
  s3port = address.port;
});
afterAll(async () => {
  await s3server.close();
});

const stores: [string, () => BlobStore][] = [
  ["fs", () => createFsBlobStore(mkdtempSync(join(tmpdir(), "blobs-")))],
  [
    "s3",
    () =>
      createS3BlobStore({
        endpoint: `http://127.0.0.1:${s3port}`,
        region: "us-east-1",
        bucket: "distillery-test",
        accessKeyId: "S3RVER",
        secretAccessKey: "S3RVER",
        forcePathStyle: true,
        prefix: `t${Date.now()}`,
      }),
  ],
];

describe.each(stores)("%s blob store", (_name, make) => {
  it("round-trips bytes, streams and files, lists by prefix, deletes", async () => {
    const store = make();
    await store.put("datasets/d1/v1/rows.jsonl.gz", Buffer.from("hello"));
    await store.put("datasets/d1/v2/rows.jsonl.gz", Readable.from(["a", "b", "c"]));
    const src = join(mkdtempSync(join(tmpdir(), "src-")), "f.bin");
    writeFileSync(src, Buffer.alloc(100_000, 7));
    expect(await store.putFile("runs/r1/adapter.safetensors", src)).toEqual({ bytes: 100_000 });
    expect(await text(await store.get("datasets/d1/v1/rows.jsonl.gz"))).toBe("hello");
    expect(await text(await store.get("datasets/d1/v2/rows.jsonl.gz"))).toBe("abc");
    const out = join(mkdtempSync(join(tmpdir(), "out-")), "nested", "copy.bin");
    await store.getToFile("runs/r1/adapter.safetensors", out);
    expect(readFileSync(out).equals(Buffer.alloc(100_000, 7))).toBe(true);
    expect(await store.list("datasets/")).toEqual([
      "datasets/d1/v1/rows.jsonl.gz",
      "datasets/d1/v2/rows.jsonl.gz",
    ]);
    expect(await store.exists("datasets/d1/v1/rows.jsonl.gz")).toBe(true);
    await store.delete("datasets/d1/v1/rows.jsonl.gz");
    expect(await store.exists("datasets/d1/v1/rows.jsonl.gz")).toBe(false);
  });

  it("streams a blob from a byte offset (the row browser seeks to a gzip member)", async () => {
    const store = make();
    await store.put("datasets/d9/v1/rows.jsonl.gz", Buffer.from("0123456789"));
    expect(await text(await store.get("datasets/d9/v1/rows.jsonl.gz", { start: 6 }))).toBe("6789");
    expect(await text(await store.get("datasets/d9/v1/rows.jsonl.gz", { start: 0 }))).toBe("0123456789");
  });

  it("says which blob is missing", async () => {
    const store = make();
    await expect(store.get("nope/x")).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.getToFile("nope/x", join(tmpdir(), "never"))).rejects.toThrow(
      "blob nope/x does not exist",
    );
  });

  it("refuses keys that would escape the store", async () => {
    const store = make();
    for (const key of ["../etc/passwd", "/abs", "a//b", "a/./b", "a\\b", "a\u0000b", ""]) {
      await expect(store.put(key, "x")).rejects.toBeInstanceOf(InvalidBlobKeyError);
    }
  });

  it("leaves nothing behind when a streamed write fails midway", async () => {
    const store = make();
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024));
        this.destroy(new Error("client went away"));
      },
    });
    await expect(store.put("partial/blob", failing)).rejects.toThrow();
    expect(await store.exists("partial/blob")).toBe(false);
    expect(await store.list("partial/")).toEqual([]);
  });
});

describe("createBlobStore", () => {
  it("uses a folder by default and names the missing S3 settings", () => {
    const dir = mkdtempSync(join(tmpdir(), "b-"));
    expect(createBlobStore({ ...ZS3Env.parse({}), blobDir: dir }).kind).toBe("fs");
    expect(() => createBlobStore({ ...ZS3Env.parse({ S3_BUCKET: "b" }), blobDir: dir })).toThrow(
      "S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: required when S3_BUCKET is set",
    );
  });
});
