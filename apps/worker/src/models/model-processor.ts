import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  downloadHubModel,
  type HubDownloadProgress,
  registerModelDir,
  registerModelPath,
} from "@distillery/catalog";
import { type Db, finishJob, type Prisma, startJob } from "@distillery/db";
import { type ModelJobPayload, ZModelJobPayload } from "@distillery/jobs";
import type { BlobStore } from "@distillery/storage";
import type { Job } from "bullmq";
import {
  failJob,
  markJobCancelled,
  throttle,
  updateJobProgress,
  watchForCancel,
} from "../datasets/job-state.ts";
import { materializePrefix } from "../runs/materialize.ts";

export interface ModelProcessorDeps {
  db: Db;
  store: BlobStore;
  workerId: string;
  /** partial downloads live here between attempts of the same job (resumed with Range) */
  workDir: string;
  cancelPollMs?: number;
}

/**
 * The models queue's processor: claim the Job row, then download (Hub), collect (upload) or
 * inspect in place (path), and register the model with the facts read from its files. Progress
 * (files and bytes) lands on the Job row for the Models page; the outcome names the model.
 */
export function createModelProcessor(deps: ModelProcessorDeps) {
  const { db, workerId } = deps;
  return async (job: Job, _token?: string, signal?: AbortSignal) => {
    const payload = ZModelJobPayload.parse(job.data);
    if (!(await startJob(db, payload.jobId, workerId))) return { skipped: true };
    const cancel = watchForCancel(db, payload.jobId, workerId, deps.cancelPollMs ?? 500);
    const stop = signal ? AbortSignal.any([signal, cancel.signal]) : cancel.signal;
    let last: HubDownloadProgress | null = null;
    const writeProgress = throttle(400, (p: Prisma.InputJsonValue) =>
      updateJobProgress(db, payload.jobId, workerId, p),
    );
    try {
      const model = await addModel(deps, payload, stop, (p) => {
        last = p;
        writeProgress(p as unknown as Prisma.InputJsonValue);
      });
      await finishJob(db, payload.jobId, workerId, {
        output: { modelId: model.id, name: model.name, progress: last } as unknown as Prisma.InputJsonValue,
      });
      return { modelId: model.id };
    } catch (e) {
      if (cancel.signal.aborted) {
        await markJobCancelled(db, payload.jobId, workerId, "Cancelled; no model was added.", {
          cancelled: true,
          progress: last,
        } as unknown as Prisma.InputJsonValue);
        return { cancelled: true };
      }
      const message = e instanceof Error ? e.message : String(e);
      await failJob(db, payload.jobId, workerId, message, {
        progress: last,
      } as unknown as Prisma.InputJsonValue);
      return { failed: message };
    } finally {
      cancel.stop();
    }
  };
}

async function addModel(
  deps: ModelProcessorDeps,
  payload: ModelJobPayload,
  signal: AbortSignal,
  onProgress: (p: HubDownloadProgress) => void,
) {
  const { db, store } = deps;
  const { source } = payload;
  if (source.kind === "path")
    return registerModelPath(db, { workspaceId: payload.workspaceId, name: payload.name, dir: source.path });
  if (source.kind === "upload") {
    const dir = await materializePrefix(store, source.prefix, join(deps.workDir, "uploads"));
    const model = await registerModelDir(db, store, {
      workspaceId: payload.workspaceId,
      name: payload.name,
      dir,
      source: "upload",
    });
    for (const key of await store.list(`${source.prefix}/`)) await store.delete(key);
    if (!store.localPath(source.prefix)) rmSync(dir, { recursive: true, force: true });
    return model;
  }
  // one folder per job: a retried delivery resumes the partial files of the last one
  const dir = join(deps.workDir, "hub", payload.jobId);
  mkdirSync(dir, { recursive: true });
  await downloadHubModel({
    endpoint: source.endpoint,
    repoId: source.repoId,
    revision: source.revision,
    token: source.token,
    dir,
    signal,
    onProgress,
  });
  const model = await registerModelDir(db, store, {
    workspaceId: payload.workspaceId,
    name: payload.name,
    dir,
    hubId: source.repoId,
    revision: source.revision,
    source: "hub",
  });
  rmSync(dir, { recursive: true, force: true });
  return model;
}
