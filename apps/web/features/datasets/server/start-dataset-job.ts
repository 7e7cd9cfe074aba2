import "server-only";
import { claimUpload, releaseUploadClaim, uploadKey } from "@distillery/catalog";
import { resolveTemplate } from "@distillery/core";
import { ZDatasetFilter } from "@distillery/datasets";
import { createJob, type Prisma } from "@distillery/db";
import { type DatasetJobPayloadInput, QUEUES, QueueUnavailableError } from "@distillery/jobs";
import type { z } from "zod";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import type { Actor } from "@/lib/server/with-route.ts";
import type { ZDeriveRequest, ZImportRequest } from "../lib/dataset-requests.ts";
import { getDatasetsContext } from "./datasets-env.ts";

function checkTemplate(id: string) {
  try {
    resolveTemplate(id);
  } catch (e) {
    throw new AppError("validation_failed", (e as Error).message, [
      { field: "body.template", message: (e as Error).message },
    ]);
  }
}

async function checkModel(workspaceId: string, modelId: string | undefined) {
  if (!modelId) return;
  const model = await getContext().db.model.findFirst({
    where: { id: modelId, workspaceId },
    select: { id: true },
  });
  if (!model)
    throw new AppError("validation_failed", `model ${modelId} does not exist`, [
      { field: "body.tokenizerModelId", message: "no such model" },
    ]);
}

/**
 * Writes the Job row (Postgres owns its state), then enqueues; the worker claims the row. An
 * upload import also claims its upload in the same transaction, so from then on the upload is
 * held by the job and the sweeper leaves it alone.
 */
async function enqueue(
  actor: Actor,
  kind: string,
  input: Prisma.InputJsonValue,
  payload: (jobId: string) => DatasetJobPayloadInput,
  uploadId?: string,
) {
  const { db, producer } = getContext();
  const job = await db.$transaction(async (tx) => {
    const created = await createJob(tx, {
      workspaceId: actor.workspaceId,
      kind,
      input,
      ...(actor.userId ? { createdById: actor.userId } : {}),
    });
    if (uploadId && !(await claimUpload(tx, { workspaceId: actor.workspaceId, uploadId, jobId: created.id })))
      throw new AppError(
        "not_found",
        `upload ${uploadId} does not exist (already imported, or expired); upload the file again`,
      );
    return created;
  });
  const data = payload(job.id);
  try {
    await producer.enqueue(QUEUES.datasets, data, { jobId: job.id });
  } catch (e) {
    if (!(e instanceof QueueUnavailableError)) {
      if (uploadId) await releaseUploadClaim(db, uploadId, job.id);
      await db.job.update({
        where: { id: job.id },
        data: { status: "failed", error: "the job could not be queued", finishedAt: new Date() },
      });
      throw e;
    }
    // Redis is down: the row is the truth. It stays queued with its payload (never a Hub token)
    // and the workers' queue sweeper enqueues it once Redis is back.
    const { token: _token, ...source } = "source" in data ? (data.source as { token?: string }) : {};
    const queuePayload = ("source" in data ? { ...data, source } : data) as Prisma.InputJsonValue;
    await db.job.update({
      where: { id: job.id },
      data: { input: { ...(input as Prisma.JsonObject), queuePayload } },
    });
    console.warn(
      `[web] dataset job ${job.id} is queued in PostgreSQL; ${e.message}: it starts once Redis is back`,
    );
  }
  return { jobId: job.id };
}

/** POST /api/datasets/imports: an upload or a Hub split becomes a `dataset-import` job. */
export async function startImport(actor: Actor, body: z.infer<typeof ZImportRequest>) {
  checkTemplate(body.template);
  await checkModel(actor.workspaceId, body.tokenizerModelId);
  const { env } = getDatasetsContext();
  const { source } = body;
  // what the Job row keeps: everything but the Hub token
  const input = {
    datasetName: body.datasetName,
    source: source.kind === "upload" ? source : { ...source, token: source.token ? "(set)" : undefined },
    policy: body.policy,
    template: body.template,
  } as Prisma.InputJsonValue;
  return enqueue(
    actor,
    "dataset-import",
    input,
    (jobId) => ({
      op: "import",
      jobId,
      workspaceId: actor.workspaceId,
      datasetName: body.datasetName,
      source:
        source.kind === "upload"
          ? { kind: "upload", key: uploadKey(actor.workspaceId, source.uploadId), fileName: source.fileName }
          : {
              kind: "hub",
              dataset: source.dataset,
              ...(source.config ? { config: source.config } : {}),
              split: source.split,
              ...(source.token ? { token: source.token } : {}),
              hubUrl: env.HF_ENDPOINT,
              datasetsServerUrl: env.HF_DATASETS_SERVER_URL,
            },
      ...(body.mapping ? { mapping: body.mapping as Record<string, unknown> } : {}),
      policy: body.policy,
      template: body.template,
      maxLength: body.maxLength,
      ...(body.tokenizerModelId ? { tokenizerModelId: body.tokenizerModelId } : {}),
      ...(actor.userId ? { createdById: actor.userId } : {}),
    }),
    source.kind === "upload" ? source.uploadId : undefined,
  );
}

/** POST …/versions/[versionId]/derive: a filter or split of a ready version, as a job. */
export async function startDerive(
  actor: Actor,
  ids: { datasetId: string; versionId: string },
  body: z.infer<typeof ZDeriveRequest>,
) {
  checkTemplate(body.template);
  await checkModel(actor.workspaceId, body.tokenizerModelId);
  const version = await getContext().db.datasetVersion.findFirst({
    where: { id: ids.versionId, datasetId: ids.datasetId, workspaceId: actor.workspaceId, status: "ready" },
    select: { id: true, stats: true },
  });
  if (!version) throw new AppError("not_found", `dataset version ${ids.versionId} does not exist`);
  const maxLength =
    (body.op === "stats" ? body.maxLength : undefined) ??
    (Number((version.stats as { maxLength?: number } | null)?.maxLength ?? 2048) || 2048);
  const common = {
    workspaceId: actor.workspaceId,
    versionId: version.id,
    template: body.template,
    maxLength,
    ...(body.tokenizerModelId ? { tokenizerModelId: body.tokenizerModelId } : {}),
  };
  if (body.op === "filter") {
    const filters = body.filters.map((f, i) => {
      const parsed = ZDatasetFilter.safeParse(f);
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0];
      const field = ["body", "filters", String(i), ...(issue?.path.map(String) ?? [])].join(".");
      throw new AppError("validation_failed", `${field}: ${issue?.message}`, [
        { field, message: issue?.message ?? "invalid" },
      ]);
    });
    for (const f of filters) {
      if (f.type !== "regex") continue;
      try {
        new RegExp(f.pattern, f.flags);
      } catch (e) {
        throw new AppError("validation_failed", `regex: ${(e as Error).message}`, [
          { field: "body.filters", message: (e as Error).message },
        ]);
      }
    }
    return enqueue(
      actor,
      "dataset-filter",
      { versionId: version.id, filters } as Prisma.InputJsonValue,
      (jobId) => ({
        op: "filter",
        jobId,
        ...common,
        filters: filters as Record<string, unknown>[],
      }),
    );
  }
  if (body.op === "stats")
    return enqueue(
      actor,
      "dataset-stats",
      { versionId: version.id, tokenizerModelId: body.tokenizerModelId },
      (jobId) => ({
        op: "stats",
        jobId,
        ...common,
      }),
    );
  return enqueue(
    actor,
    "dataset-split",
    { versionId: version.id, testFraction: body.testFraction, seed: body.seed },
    (jobId) => ({ op: "split", jobId, ...common, testFraction: body.testFraction, seed: body.seed }),
  );
}
