import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, relative, sep } from "node:path";
import type { EngineEvent } from "@distillery/core";
import { type Db, newId } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((e) => filesUnder(join(path, e.name)));
}

async function uploadPath(store: BlobStore, path: string, prefix: string): Promise<number> {
  let bytes = 0;
  const isFile = statSync(path).isFile();
  for (const file of filesUnder(path)) {
    const rel = isFile ? basename(file) : relative(path, file).split(sep).join("/");
    bytes += (await store.putFile(`${prefix}/${rel}`, file)).bytes;
  }
  return bytes;
}

/**
 * Engines write artifacts and checkpoints into the run's local folder; this copies them into blob
 * storage, in order, so any machine can export an artifact or resume the run. Artifacts get an
 * Artifact row; checkpoints are copied only when the store is remote (a folder store is on this
 * machine's disk already, beside the run folder).
 */
export function createArtifactSync(options: {
  db: Db;
  store: BlobStore;
  run: { id: string; workspaceId: string };
  onError: (e: Error) => void;
}) {
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    chain = chain.then(work).catch((e: Error) => options.onError(e));
  };
  return {
    handle(event: EngineEvent) {
      if (event.type === "artifact") {
        enqueue(async () => {
          if (!existsSync(event.path)) return;
          const prefix = `runs/${options.run.id}/artifacts/${event.kind}`;
          const bytes = await uploadPath(options.store, event.path, prefix);
          await options.db.artifact.create({
            data: {
              id: newId("art"),
              workspaceId: options.run.workspaceId,
              runId: options.run.id,
              kind: event.kind,
              name: basename(event.path),
              blobKey: prefix,
              bytes: BigInt(bytes),
            },
          });
        });
      }
      if (event.type === "checkpoint" && options.store.kind !== "fs") {
        enqueue(async () => {
          if (existsSync(event.path))
            await uploadPath(
              options.store,
              event.path,
              `runs/${options.run.id}/checkpoints/${basename(event.path)}`,
            );
        });
      }
    },
    /** resolves once everything handed over so far is in storage */
    flush: () => chain,
  };
}

/**
 * On a machine that has not seen this run, brings its latest recorded checkpoint back from
 * blob storage into the folder the engine resumes from.
 */
export async function restoreLatestCheckpoint(
  store: BlobStore,
  runId: string,
  checkpointPath: string,
): Promise<boolean> {
  if (existsSync(checkpointPath)) return false;
  const prefix = `runs/${runId}/checkpoints/${basename(checkpointPath)}`;
  const keys = await store.list(`${prefix}/`);
  for (const key of keys)
    await store.getToFile(key, join(checkpointPath, ...key.slice(prefix.length + 1).split("/")));
  return keys.length > 0;
}
