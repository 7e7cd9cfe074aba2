import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createFsBlobStore } from "@distillery/storage";
import { extract } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "./test-services.ts";

vi.mock("server-only", () => ({}));

/** The run page's artifacts and downloads, against the real Postgres and the folder blob store. */
const dataDir = mkdtempSync(join(tmpdir(), "run-artifacts-"));
process.env.DISTILLERY_DATA_DIR = dataDir;
process.env.QUEUE_PREFIX = `ra${randomBytes(3).toString("hex")}`;
const store = createFsBlobStore(join(dataDir, "blobs"));

type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;
let routes: { list: Handler; artifact: Handler; checkpoint: Handler };
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let workspaceId = "";
const weights = randomBytes(70_000);

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  routes = {
    list: (await import("@/app/api/runs/[runId]/artifacts/route.ts")).GET,
    artifact: (await import("@/app/api/runs/[runId]/artifacts/[artifactId]/download/route.ts")).GET,
    checkpoint: (await import("@/app/api/runs/[runId]/checkpoints/[name]/download/route.ts")).GET,
  };
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId: "", workspaceId, name: "T", email: "t@example.com" }));

  await db.run.create({ data: { id: "run_a", workspaceId, name: "My run", config: {} } });
  await store.put("runs/run_a/artifacts/adapter/adapter_config.json", '{"r":8}');
  await store.put("runs/run_a/artifacts/adapter/adapter_model.safetensors", weights);
  await store.put("runs/run_a/artifacts/onnx/model.onnx", "onnx bytes");
  await db.artifact.createMany({
    data: [
      {
        id: "art_ad",
        workspaceId,
        runId: "run_a",
        kind: "adapter",
        name: "adapter",
        blobKey: "runs/run_a/artifacts/adapter",
        bytes: 1,
      },
      {
        id: "art_ox",
        workspaceId,
        runId: "run_a",
        kind: "onnx",
        name: "model.onnx",
        blobKey: "runs/run_a/artifacts/onnx",
        bytes: 10,
      },
    ],
  });
  // a checkpoint in the run folder (the folder store does not copy checkpoints), and one pruned
  const ckpt = join(dataDir, "runs", "run_a", "out", "checkpoint-20");
  mkdirSync(ckpt, { recursive: true });
  writeFileSync(join(ckpt, "state.json"), '{"step":20}');
  await db.runEvent.createMany({
    data: [
      {
        workspaceId,
        runId: "run_a",
        seq: 0,
        type: "checkpoint",
        data: { type: "checkpoint", step: 20, path: ckpt },
      },
      {
        workspaceId,
        runId: "run_a",
        seq: 1,
        type: "checkpoint",
        data: { type: "checkpoint", step: 40, path: join(ckpt, "..", "checkpoint-40") },
      },
      {
        workspaceId,
        runId: "run_a",
        seq: 2,
        type: "checkpoint",
        data: { type: "checkpoint", step: 60, path: "/etc/checkpoint-60" },
      },
    ],
  });
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

async function untar(res: Response): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c) => chunks.push(c as Buffer));
      stream.on("end", () => {
        out[header.name] = Buffer.concat(chunks);
        next();
      });
    });
    ex.on("finish", resolve);
    ex.on("error", reject);
  });
  const body = Buffer.from(await res.arrayBuffer());
  Readable.from([body]).pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

describe("run artifacts", () => {
  it("lists artifacts with their sizes from storage, and only the checkpoints that can be had", async () => {
    const res = await routes.list(new Request("http://x"), params({ runId: "run_a" }));
    const body = (await res.json()) as {
      artifacts: { kind: string; bytes: number; files: number; isFolder: boolean }[];
      checkpoints: { name: string; step: number; bytes: number }[];
    };
    expect(body.artifacts).toMatchObject([
      { kind: "adapter", bytes: 7 + weights.length, files: 2, isFolder: true },
      { kind: "onnx", bytes: 10, files: 1, isFolder: false },
    ]);
    expect(body.checkpoints).toEqual([
      expect.objectContaining({ name: "checkpoint-20", step: 20, bytes: 11 }),
    ]);
  });

  it("streams a single file as itself and a folder as a tar whose Content-Length is exact", async () => {
    const onnx = await routes.artifact(
      new Request("http://x"),
      params({ runId: "run_a", artifactId: "art_ox" }),
    );
    expect(onnx.headers.get("content-disposition")).toBe('attachment; filename="model.onnx"');
    expect(await onnx.text()).toBe("onnx bytes");

    const adapter = await routes.artifact(
      new Request("http://x"),
      params({ runId: "run_a", artifactId: "art_ad" }),
    );
    expect(adapter.headers.get("content-type")).toBe("application/x-tar");
    expect(adapter.headers.get("content-disposition")).toBe('attachment; filename="My-run-adapter.tar"');
    const declared = Number(adapter.headers.get("content-length"));
    const bytes = Buffer.from(await adapter.clone().arrayBuffer());
    expect(bytes.length).toBe(declared);
    const files = await untar(adapter);
    expect(Object.keys(files).sort()).toEqual([
      "My-run-adapter/adapter_config.json",
      "My-run-adapter/adapter_model.safetensors",
    ]);
    expect(files["My-run-adapter/adapter_model.safetensors"]?.equals(weights)).toBe(true);
  });

  it("downloads a checkpoint folder as a tar, and refuses what is not there or not the run's", async () => {
    const ok = await routes.checkpoint(
      new Request("http://x"),
      params({ runId: "run_a", name: "checkpoint-20" }),
    );
    expect(await untar(ok)).toEqual({ "My-run-checkpoint-20/state.json": Buffer.from('{"step":20}') });
    const outside = await routes.checkpoint(
      new Request("http://x"),
      params({ runId: "run_a", name: "checkpoint-60" }),
    );
    expect(outside.status).toBe(404);
    const other = await routes.artifact(
      new Request("http://x"),
      params({ runId: "run_b", artifactId: "art_ad" }),
    );
    expect(other.status).toBe(404);
    const bad = await routes.checkpoint(
      new Request("http://x"),
      params({ runId: "run_a", name: "../../etc" }),
    );
    expect(bad.status).toBe(400);
  });
});
