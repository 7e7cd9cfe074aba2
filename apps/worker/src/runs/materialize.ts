import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";
import { RunSetupError } from "./engine-launcher.ts";

/**
 * Makes a blob prefix available as a local folder: in place for a folder store, downloaded once
 * into the cache for S3 (written beside, then renamed, so a killed download is never used).
 */
export async function materializePrefix(store: BlobStore, prefix: string, cacheDir: string): Promise<string> {
  const keys = await store.list(`${prefix}/`);
  if (keys.length === 0) throw new RunSetupError(`no files under blob prefix ${prefix}`);
  const local = store.localPath(keys[0] ?? "");
  if (local) return local.slice(0, local.length - (keys[0] ?? "").length + prefix.length);
  const target = join(cacheDir, ...prefix.split("/"));
  if (existsSync(target)) return target;
  const temp = `${target}.${process.pid}.partial`;
  rmSync(temp, { recursive: true, force: true });
  for (const key of keys) await store.getToFile(key, join(temp, ...key.slice(prefix.length + 1).split("/")));
  mkdirSync(join(target, ".."), { recursive: true });
  renameSync(temp, target);
  return target;
}

/**
 * The base model of a run as a local HF directory, or a reason it cannot be had. `nameOrPath`
 * is what `from_pretrained` loads for it outside the studio (adapter_config.json's
 * base_model_name_or_path): the Hub id it came from, else its folder; never the catalog id.
 */
export async function resolveModelDir(
  db: Db,
  store: BlobStore,
  workspaceId: string,
  modelRef: string,
  cacheDir: string,
  /** the hf engine loads a Hugging Face Hub id itself (on GPU workers that reach the Hub) */
  allowHubId = false,
): Promise<{ dir: string; modelId: string | null; nameOrPath: string }> {
  const model = await db.model.findFirst({
    where: { workspaceId, OR: [{ id: modelRef }, { name: modelRef }, { hubId: modelRef }] },
  });
  const isHubId = /^[\w.-]+\/[\w.-]+$/.test(modelRef);
  if (!model) {
    if (existsSync(join(modelRef, "config.json")))
      return { dir: modelRef, modelId: null, nameOrPath: modelRef };
    if (allowHubId && isHubId) return { dir: modelRef, modelId: null, nameOrPath: modelRef };
    throw new RunSetupError(`model ${modelRef} no longer exists in this workspace`, "model.id");
  }
  const location = model.location ?? "";
  if (location.startsWith("blob:")) {
    try {
      const dir = await materializePrefix(store, location.slice(5), cacheDir);
      return { dir, modelId: model.id, nameOrPath: model.hubId ?? dir };
    } catch (e) {
      throw new RunSetupError(
        `model ${model.name}: its files are missing (${(e as Error).message})`,
        "model.id",
      );
    }
  }
  if (location && existsSync(join(location, "config.json")))
    return { dir: location, modelId: model.id, nameOrPath: model.hubId ?? location };
  if (allowHubId && model.hubId) return { dir: model.hubId, modelId: model.id, nameOrPath: model.hubId };
  throw new RunSetupError(
    `model ${model.name} has no local files this worker can read (location: ${location || "none"})`,
    "model.id",
  );
}

/** A ready dataset version's rows file as a local path. */
export async function resolveVersionRows(
  db: Db,
  store: BlobStore,
  workspaceId: string,
  versionId: string,
  cacheDir: string,
  field: string,
): Promise<string> {
  const version = await db.datasetVersion.findFirst({ where: { id: versionId, workspaceId } });
  if (!version) throw new RunSetupError(`dataset version ${versionId} no longer exists`, field);
  if (version.status !== "ready" || !version.blobKey) {
    throw new RunSetupError(`dataset version ${versionId} is ${version.status}, not ready`, field);
  }
  const local = store.localPath(version.blobKey);
  if (local) {
    if (!existsSync(local))
      throw new RunSetupError(`dataset version ${versionId}: its rows are missing from storage`, field);
    return local;
  }
  const target = join(cacheDir, ...version.blobKey.split("/"));
  if (!existsSync(target)) await store.getToFile(version.blobKey, target);
  return target;
}
