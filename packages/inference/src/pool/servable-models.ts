import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ZRunConfig } from "@distillery/core";
import type { Db } from "@distillery/db";
// the checkpoint writer alone (engine-local's index also resolves its CLI: tsx, kept out of the web bundle)
import { writeCheckpointModel } from "@distillery/engine-local/checkpoint-model";
import type { BlobStore } from "@distillery/storage";

/**
 * Every model the studio holds, as a /v1 model id:
 * - a base model of the catalog: its name (`tiny-demo-student`, `microsoft/Phi-3-mini-4k-instruct`);
 * - a run's result: `<runId>` — the merged model (or the whole model of a full fine-tune), else
 *   its adapter on the run's base model;
 * - a run's adapter on its base, when the run also has a merged model: `<runId>:adapter`;
 * - a training checkpoint still on disk (or in blob storage): `<runId>:checkpoint-<step>`, served
 *   as the base with the checkpoint's weights (LoRA merged), written once into the cache.
 */
export interface ServableModel {
  id: string;
  kind: "base" | "merged" | "model" | "adapter" | "checkpoint";
  /** what a person reads (the run's or model's name) */
  label: string;
  /** unix seconds */
  created: number;
  runId?: string;
  /** the catalog Model row (a base model, or a run's base) */
  modelId?: string;
}

export interface ServableFiles {
  modelDir: string;
  adapterDir?: string;
  /** the chat template id to use when the model ships none (a run's `data.template`) */
  templateId: string;
}

export class UnknownModelError extends Error {
  constructor(readonly modelId: string) {
    super(`The model \`${modelId}\` does not exist or you do not have access to it.`);
    this.name = "UnknownModelError";
  }
}

const RESULT_KINDS = ["merged", "model", "adapter"] as const;

export async function listServableModels(db: Db, workspaceId: string): Promise<ServableModel[]> {
  const [models, runs, checkpoints] = await Promise.all([
    db.model.findMany({ where: { workspaceId }, orderBy: { createdAt: "asc" }, take: 1000 }),
    db.run.findMany({
      where: { workspaceId, artifacts: { some: { kind: { in: [...RESULT_KINDS] } } } },
      include: { artifacts: { where: { kind: { in: [...RESULT_KINDS] } } } },
      orderBy: { createdAt: "asc" },
      take: 1000,
    }),
    db.runEvent.findMany({
      where: { workspaceId, type: "checkpoint" },
      select: {
        runId: true,
        step: true,
        data: true,
        createdAt: true,
        run: { select: { name: true, modelId: true } },
      },
      orderBy: { id: "desc" },
      take: 200,
    }),
  ]);
  const out: ServableModel[] = models.map((m) => ({
    id: m.name,
    kind: "base",
    label: m.name,
    created: Math.floor(m.createdAt.getTime() / 1000),
    modelId: m.id,
  }));
  for (const run of runs) {
    const kinds = new Set(run.artifacts.map((a) => a.kind));
    const created = Math.floor((run.finishedAt ?? run.createdAt).getTime() / 1000);
    const main = kinds.has("merged") ? "merged" : kinds.has("model") ? "model" : "adapter";
    out.push({
      id: run.id,
      kind: main,
      label: run.name,
      created,
      runId: run.id,
      modelId: run.modelId ?? undefined,
    });
    if (main !== "adapter" && kinds.has("adapter"))
      out.push({
        id: `${run.id}:adapter`,
        kind: "adapter",
        label: `${run.name} (adapter on base)`,
        created,
        runId: run.id,
        modelId: run.modelId ?? undefined,
      });
  }
  for (const c of checkpoints) {
    const path = (c.data as { path?: string }).path;
    // the engine keeps its last checkpoints only: older events point at removed folders
    if (path && !existsSync(join(/* turbopackIgnore: true */ path, "trainable.safetensors"))) continue;
    out.push({
      id: `${c.runId}:checkpoint-${c.step ?? 0}`,
      kind: "checkpoint",
      label: `${c.run.name} (checkpoint ${c.step ?? 0})`,
      created: Math.floor(c.createdAt.getTime() / 1000),
      runId: c.runId,
      modelId: c.run.modelId ?? undefined,
    });
  }
  return out;
}

/**
 * A blob prefix as a local folder: in place for a folder store, else downloaded once into
 * `cacheDir` (written beside, then renamed, so a killed download is never used).
 */
export async function materializeBlobDir(
  store: BlobStore,
  prefix: string,
  cacheDir: string,
): Promise<string> {
  const keys = await store.list(`${prefix}/`);
  if (keys.length === 0) throw new Error(`no files under blob prefix ${prefix}`);
  const first = keys[0] as string;
  const local = store.localPath(first);
  if (local) return local.slice(0, local.length - first.length + prefix.length);
  const target = join(/* turbopackIgnore: true */ cacheDir, ...prefix.split("/"));
  if (existsSync(target)) return target;
  const temp = `${target}.${process.pid}.partial`;
  rmSync(temp, { recursive: true, force: true });
  for (const key of keys)
    await store.getToFile(
      key,
      join(/* turbopackIgnore: true */ temp, ...key.slice(prefix.length + 1).split("/")),
    );
  mkdirSync(join(target, ".."), { recursive: true });
  renameSync(temp, target);
  return target;
}

async function modelRowDir(
  db: Db,
  store: BlobStore,
  cacheDir: string,
  where: { workspaceId: string; id?: string; ref?: string },
): Promise<string | null> {
  const model = await db.model.findFirst({
    where: {
      workspaceId: where.workspaceId,
      ...(where.id
        ? { id: where.id }
        : { OR: [{ id: where.ref }, { name: where.ref }, { hubId: where.ref }] }),
    },
  });
  if (!model) return null;
  const location = model.location ?? "";
  if (location.startsWith("blob:")) return materializeBlobDir(store, location.slice(5), cacheDir);
  if (location && existsSync(join(/* turbopackIgnore: true */ location, "config.json"))) return location;
  throw new Error(`model ${model.name} has no local files to serve (location: ${location || "none"})`);
}

function runTemplateId(config: unknown): string {
  const data = (config as { data?: { template?: unknown } } | null)?.data;
  return typeof data?.template === "string" ? data.template : "phi3";
}

/** The local files behind a /v1 model id; UnknownModelError when the workspace has no such model. */
export async function resolveServableFiles(
  db: Db,
  store: BlobStore,
  workspaceId: string,
  id: string,
  cacheDir: string,
): Promise<ServableFiles> {
  const [runId, suffix] = id.split(":", 2) as [string, string | undefined];
  const run = /^run_[0-9a-f]+$/.test(runId)
    ? await db.run.findFirst({ where: { workspaceId, id: runId }, include: { artifacts: true } })
    : null;
  if (!run) {
    const dir = await modelRowDir(db, store, cacheDir, { workspaceId, ref: id });
    if (!dir) throw new UnknownModelError(id);
    return { modelDir: dir, templateId: "phi3" };
  }
  const templateId = runTemplateId(run.config);
  const artifact = (kind: string) => run.artifacts.find((a) => a.kind === kind);
  const merged = artifact("merged") ?? artifact("model");
  if (suffix === undefined && merged)
    return { modelDir: await materializeBlobDir(store, merged.blobKey, cacheDir), templateId };
  const baseRef = (run.config as { model?: { id?: string } }).model?.id;
  const baseDir = async () =>
    (run.modelId ? await modelRowDir(db, store, cacheDir, { workspaceId, id: run.modelId }) : null) ??
    (baseRef ? await modelRowDir(db, store, cacheDir, { workspaceId, ref: baseRef }) : null) ??
    (baseRef && existsSync(join(/* turbopackIgnore: true */ baseRef, "config.json")) ? baseRef : null);
  const checkpoint = suffix?.match(/^checkpoint-(\d+)$/);
  if (checkpoint) {
    const step = Number(checkpoint[1]);
    const event = await db.runEvent.findFirst({
      where: { runId: run.id, type: "checkpoint", step },
      orderBy: { id: "desc" },
    });
    if (!event) throw new UnknownModelError(id);
    const path = (event.data as { path?: string }).path ?? "";
    const dir = existsSync(join(/* turbopackIgnore: true */ path, "trainable.safetensors"))
      ? path
      : await materializeBlobDir(store, `runs/${run.id}/checkpoints/checkpoint-${step}`, cacheDir).catch(
          () => {
            throw new UnknownModelError(id);
          },
        );
    const base = await baseDir();
    if (!base) throw new Error(`run ${run.id}: its base model is no longer in the workspace`);
    const out = join(/* turbopackIgnore: true */ cacheDir, "checkpoints", run.id, `checkpoint-${step}`);
    mkdirSync(join(/* turbopackIgnore: true */ out, ".."), { recursive: true });
    writeCheckpointModel(base, ZRunConfig.parse(run.config), dir, out);
    return { modelDir: out, templateId };
  }
  const adapter = artifact("adapter");
  if (!adapter || (suffix !== undefined && suffix !== "adapter")) throw new UnknownModelError(id);
  const modelDir = await baseDir();
  if (!modelDir) throw new Error(`run ${run.id}: its base model is no longer in the workspace`);
  return { modelDir, adapterDir: await materializeBlobDir(store, adapter.blobKey, cacheDir), templateId };
}

/** The model's own chat template (tokenizer_config.json), if it ships one. */
export function readTokenizerConfig(dir: string): Record<string, unknown> | null {
  try {
    return JSON.parse(
      readFileSync(join(/* turbopackIgnore: true */ dir, "tokenizer_config.json"), "utf8"),
    ) as Record<string, unknown>;
  } catch {
    return null;
  }
}
