import "server-only";
import { randomUUID } from "node:crypto";
import { createJob, type Prisma } from "@distillery/db";
import { type ModelJobPayload, QUEUES } from "@distillery/jobs";
import type { z } from "zod";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import { getEnv } from "@/lib/server/env.ts";
import type { Actor } from "@/lib/server/with-route.ts";
import type { ZAddModelRequest } from "../lib/model-requests.ts";

export const MODEL_JOB_KIND = "model-add";

async function checkNameFree(workspaceId: string, name: string, field: string) {
  const taken = await getContext().db.model.findFirst({ where: { workspaceId, name }, select: { id: true } });
  if (taken)
    throw new AppError("conflict", `a model named ${name} already exists`, [
      { field, message: "this name is taken: pick another" },
    ]);
}

/**
 * Writes the Job row (its input never holds the token), then enqueues the payload that does;
 * a queue that cannot be reached fails the row with the reason instead of leaving it queued.
 */
async function enqueueModelJob(actor: Actor, name: string, source: ModelJobPayload["source"]) {
  const { db, producer } = getContext();
  const { token: _token, ...shown } = source as ModelJobPayload["source"] & { token?: string };
  const job = await createJob(db, {
    workspaceId: actor.workspaceId,
    kind: MODEL_JOB_KIND,
    input: { name, source: shown } as Prisma.InputJsonValue,
    ...(actor.userId ? { createdById: actor.userId } : {}),
  });
  try {
    await producer.enqueue(
      QUEUES.models,
      { jobId: job.id, workspaceId: actor.workspaceId, name, source },
      { jobId: job.id },
    );
  } catch (e) {
    await db.job.update({
      where: { id: job.id },
      data: { status: "failed", error: "the queue is unavailable", finishedAt: new Date() },
    });
    throw new AppError("unavailable", `cannot enqueue the job: ${(e as Error).message}`);
  }
  return { jobId: job.id, name };
}

/** POST /api/models: download from the Hub (HF_ENDPOINT) or register a worker's folder. */
export async function startAddModel(actor: Actor, body: z.infer<typeof ZAddModelRequest>) {
  const { source } = body;
  const name =
    body.name ??
    (source.kind === "hub" ? source.repoId : (source.path.split("/").filter(Boolean).pop() ?? source.path));
  await checkNameFree(actor.workspaceId, name, "body.name");
  if (source.kind === "hub")
    return enqueueModelJob(actor, name, {
      kind: "hub",
      repoId: source.repoId,
      revision: source.revision,
      endpoint: getEnv().HF_ENDPOINT,
      ...(source.token ? { token: source.token } : {}),
    });
  return enqueueModelJob(actor, name, { kind: "path", path: source.path });
}

const uploadPrefix = (workspaceId: string, uploadId: string) => `model-uploads/${workspaceId}/${uploadId}`;

/** POST /api/models/uploads: a folder upload starts; files follow one PUT each. */
export function createModelUpload(_actor: Actor) {
  return { uploadId: randomUUID().replaceAll("-", "") };
}

export function modelUploadKey(actor: Actor, uploadId: string, path: string) {
  return `${uploadPrefix(actor.workspaceId, uploadId)}/${path}`;
}

/** POST /api/models/uploads/{id}/complete: the worker reads the folder and registers it. */
export async function completeModelUpload(actor: Actor, uploadId: string, name: string) {
  const { store } = getContext();
  const prefix = uploadPrefix(actor.workspaceId, uploadId);
  const keys = await store.list(`${prefix}/`);
  if (keys.length === 0)
    throw new AppError("not_found", `upload ${uploadId} has no files: upload the folder again`);
  if (!keys.includes(`${prefix}/config.json`))
    throw new AppError(
      "unprocessable",
      "the folder has no config.json at its root: it is not a Hugging Face model folder",
      [{ field: "body.files", message: "config.json is missing" }],
    );
  await checkNameFree(actor.workspaceId, name, "body.name");
  return enqueueModelJob(actor, name, { kind: "upload", prefix });
}

/** Recent model jobs with their progress, newest first (the Models page polls them). */
export async function listModelJobs(workspaceId: string) {
  const jobs = await getContext().db.job.findMany({
    where: { workspaceId, kind: MODEL_JOB_KIND },
    orderBy: { createdAt: "desc" },
    take: 20,
  });
  return jobs.map((j) => ({
    id: j.id,
    status: j.status,
    input: j.input as { name: string; source: { kind: string; repoId?: string; path?: string } },
    output: j.output as {
      modelId?: string;
      progress?: {
        file: string;
        filesDone: number;
        filesTotal: number;
        bytesDone: number;
        bytesTotal: number;
      } | null;
    } | null,
    error: j.error,
    createdAt: j.createdAt.toISOString(),
    finishedAt: j.finishedAt?.toISOString() ?? null,
  }));
}
export type ModelJobView = Awaited<ReturnType<typeof listModelJobs>>[number];
