import "server-only";
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import type { BlobStore } from "@distillery/storage";
import { pack as tarPack } from "tar-stream";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import { getEnv } from "@/lib/server/env.ts";

/**
 * A run's outputs as the run page lists them: artifacts (adapter, merged model, ONNX…) from their
 * Artifact rows in blob storage, and checkpoints (from blob storage when the store is remote, or
 * the run folder under the data dir when it is the embedded folder store). Downloads stream: one
 * file as itself, a folder as a tar written entry by entry (never assembled in memory).
 */
interface OutputFile {
  /** path inside the artifact or checkpoint */
  name: string;
  size: number;
  open: () => Readable;
  /** removes a temporary copy once sent */
  cleanup?: () => void;
}

const CHECKPOINT_NAME = /^checkpoint-\d+$/;

async function blobFiles(store: BlobStore, prefix: string): Promise<OutputFile[]> {
  const keys = (await store.list(`${prefix}/`)).sort();
  const files: OutputFile[] = [];
  for (const key of keys) {
    const name = key.slice(prefix.length + 1);
    const local = store.localPath(key);
    if (local && existsSync(local)) {
      files.push({ name, size: statSync(local).size, open: () => createReadStream(local) });
      continue;
    }
    // a remote store gives no size up front, and a tar header needs one: copy to a temp file first
    files.push({ name, size: -1, open: () => Readable.from([]) });
  }
  return files;
}

/** Materializes the size-less (remote) entries one at a time, just before each is sent. */
async function ensureLocal(store: BlobStore, prefix: string, f: OutputFile): Promise<OutputFile> {
  if (f.size >= 0) return f;
  const dir = mkdtempSync(join(tmpdir(), "artifact-"));
  const path = join(dir, "blob");
  await store.getToFile(`${prefix}/${f.name}`, path);
  return {
    name: f.name,
    size: statSync(path).size,
    open: () => createReadStream(path),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function folderFiles(dir: string): OutputFile[] {
  const out: OutputFile[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const size = statSync(p).size;
        out.push({ name: relative(dir, p).split(sep).join("/"), size, open: () => createReadStream(p) });
      }
    }
  };
  walk(dir);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** A checkpoint folder on this machine: only inside the data dir's run folders, never elsewhere. */
function localCheckpointDir(path: string): string | null {
  const runs = resolve(getEnv().DISTILLERY_DATA_DIR, "runs");
  const full = resolve(path);
  if (!full.startsWith(`${runs}${sep}`) || !existsSync(full) || !statSync(full).isDirectory()) return null;
  return full;
}

async function findRun(workspaceId: string, runId: string) {
  const run = await getContext().db.run.findFirst({
    where: { id: runId, workspaceId },
    select: { id: true, name: true },
  });
  if (!run) throw new AppError("not_found", `run ${runId} not found`);
  return run;
}

async function runCheckpoints(runId: string) {
  const { db, store } = getContext();
  const events = await db.runEvent.findMany({
    where: { runId, type: "checkpoint" },
    orderBy: { seq: "asc" },
    select: { data: true },
  });
  const byName = new Map<
    string,
    { name: string; step: number; files: OutputFile[]; prefix: string | null }
  >();
  for (const e of events) {
    const data = e.data as { path?: string; step?: number };
    const name = basename(data.path ?? "");
    if (!CHECKPOINT_NAME.test(name)) continue;
    const prefix = `runs/${runId}/checkpoints/${name}`;
    let files = await blobFiles(store, prefix);
    let fromPrefix: string | null = prefix;
    if (files.length === 0) {
      const dir = data.path ? localCheckpointDir(data.path) : null;
      files = dir ? folderFiles(dir) : [];
      fromPrefix = null;
    }
    // a pruned or never-copied checkpoint is not listed: nothing could be downloaded
    if (files.length > 0) byName.set(name, { name, step: data.step ?? 0, files, prefix: fromPrefix });
  }
  return [...byName.values()];
}

const sumSize = (files: OutputFile[]) =>
  files.every((f) => f.size >= 0) ? files.reduce((s, f) => s + f.size, 0) : null;

/** GET /api/runs/{id}/artifacts */
export async function listRunArtifacts(workspaceId: string, runId: string) {
  const { db, store } = getContext();
  await findRun(workspaceId, runId);
  const rows = await db.artifact.findMany({ where: { runId, workspaceId }, orderBy: { createdAt: "asc" } });
  const artifacts = [];
  for (const a of rows) {
    const files = await blobFiles(store, a.blobKey);
    artifacts.push({
      id: a.id,
      kind: a.kind,
      name: a.name,
      bytes: sumSize(files) ?? Number(a.bytes),
      files: files.length,
      isFolder: files.length !== 1,
      createdAt: a.createdAt.toISOString(),
      downloadUrl: `/api/runs/${runId}/artifacts/${a.id}/download`,
    });
  }
  const checkpoints = (await runCheckpoints(runId)).map((c) => ({
    name: c.name,
    step: c.step,
    bytes: sumSize(c.files),
    files: c.files.length,
    downloadUrl: `/api/runs/${runId}/checkpoints/${c.name}/download`,
  }));
  return { artifacts, checkpoints };
}
export type RunArtifacts = Awaited<ReturnType<typeof listRunArtifacts>>;

const safeName = (s: string) => s.replace(/[^\w.-]+/g, "-").replace(/^-+|-+$/g, "") || "download";

function fileResponse(file: OutputFile, filename: string): Response {
  const body = Readable.toWeb(file.open()) as ReadableStream;
  return new Response(body, {
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(file.size),
      "content-disposition": `attachment; filename="${safeName(filename)}"`,
      "cache-control": "no-store",
    },
  });
}

/** A tar of `files` under `root/`, streamed: each entry is read only when the client wants it. */
function tarResponse(
  files: OutputFile[],
  root: string,
  filename: string,
  materialize: (f: OutputFile) => Promise<OutputFile>,
): Response {
  const pack = tarPack();
  void (async () => {
    for (const f of files) {
      const file = await materialize(f);
      try {
        await new Promise<void>((done, fail) => {
          const entry = pack.entry({ name: `${root}/${file.name}`, size: file.size, mode: 0o644 }, (e) =>
            e ? fail(e) : done(),
          );
          const source = file.open();
          source.on("error", fail);
          source.pipe(entry as unknown as NodeJS.WritableStream);
        });
      } finally {
        file.cleanup?.();
      }
    }
    pack.finalize();
  })().catch((e: Error) => pack.destroy(e));
  // plain ustar headers only (names that fit 100 bytes): longer ones get PAX blocks of their own
  const size = files.every((f) => Buffer.byteLength(`${root}/${f.name}`) <= 100) ? sumSize(files) : null;
  return new Response(Readable.toWeb(Readable.from(pack)) as ReadableStream, {
    headers: {
      "content-type": "application/x-tar",
      // a tar is 512-byte headers + data padded to 512 + two zero blocks, when every size is known
      ...(size !== null
        ? { "content-length": String(files.reduce((s, f) => s + 512 + Math.ceil(f.size / 512) * 512, 1024)) }
        : {}),
      "content-disposition": `attachment; filename="${safeName(filename)}.tar"`,
      "cache-control": "no-store",
    },
  });
}

/** GET /api/runs/{id}/artifacts/{artifactId}/download */
export async function downloadArtifact(workspaceId: string, runId: string, artifactId: string) {
  const { db, store } = getContext();
  const run = await findRun(workspaceId, runId);
  const a = await db.artifact.findFirst({ where: { id: artifactId, runId, workspaceId } });
  if (!a) throw new AppError("not_found", `artifact ${artifactId} not found in run ${runId}`);
  const files = await blobFiles(store, a.blobKey);
  if (files.length === 0)
    throw new AppError("not_found", `artifact ${a.name}: its files are no longer in storage`);
  const only = files[0];
  if (files.length === 1 && only) return fileResponse(await ensureLocal(store, a.blobKey, only), only.name);
  const root = safeName(`${run.name}-${a.kind}`);
  return tarResponse(files, root, root, (f) => ensureLocal(store, a.blobKey, f));
}

/** GET /api/runs/{id}/checkpoints/{name}/download: always a tar of the folder. */
export async function downloadCheckpoint(workspaceId: string, runId: string, name: string) {
  const { store } = getContext();
  const run = await findRun(workspaceId, runId);
  const checkpoint = (await runCheckpoints(runId)).find((c) => c.name === name);
  if (!checkpoint) throw new AppError("not_found", `checkpoint ${name} of run ${runId} is not available`);
  const root = safeName(`${run.name}-${name}`);
  const prefix = checkpoint.prefix;
  return tarResponse(checkpoint.files, root, root, (f) =>
    prefix ? ensureLocal(store, prefix, f) : Promise.resolve(f),
  );
}
