import "server-only";
import { type RunConfig, ZRunConfig } from "@distillery/core";
import { createRun, type Prisma } from "@distillery/db";
import { runQueueFor } from "@distillery/jobs";
import { z } from "zod";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import type { Actor } from "@/lib/server/with-route.ts";
import { toRunView } from "./run-view.ts";

/** The body of POST /api/runs: field errors read `body.config.training.learningRate`. */
export const ZLaunchRun = z.object({ config: ZRunConfig });

/** owner/name, as the Hugging Face Hub spells repository ids */
const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/**
 * Launches a run: the config is already parsed; the model and the dataset version must exist
 * in the workspace (422 naming the field otherwise). The row is written first, then the job is
 * enqueued with jobId = run id (a retried enqueue cannot queue it twice); if enqueueing fails
 * the run is marked failed with the reason rather than left queued forever.
 */
export async function launchRun(actor: Actor, config: RunConfig) {
  const { db, producer } = getContext();
  const modelId = await resolveModel(actor.workspaceId, config);
  const version = await db.datasetVersion.findFirst({
    where: { id: config.data.datasetVersionId, workspaceId: actor.workspaceId },
    select: { id: true, status: true },
  });
  if (version?.status !== "ready") {
    const reason = version
      ? `dataset version ${version.id} is ${version.status}, not ready`
      : `dataset version ${config.data.datasetVersionId} does not exist in this workspace`;
    throw new AppError("unprocessable", reason, [
      { field: "body.config.data.datasetVersionId", message: reason },
    ]);
  }
  const run = await createRun(db, {
    workspaceId: actor.workspaceId,
    name:
      config.name?.trim() ||
      `${config.model.id.split("/").pop()} · ${new Date().toISOString().slice(0, 16).replace("T", " ")}`,
    engine: config.engine,
    config: config as unknown as Prisma.InputJsonValue,
    modelId,
    datasetVersionId: version.id,
    launchedById: actor.userId || null,
  });
  try {
    await producer.enqueue(
      runQueueFor(config.engine),
      { runId: run.id, workspaceId: actor.workspaceId },
      { jobId: run.id },
    );
  } catch (e) {
    const error = `could not enqueue the run: ${(e as Error).message}`;
    await db.run.updateMany({
      where: { id: run.id, status: "queued" },
      data: { status: "failed", error, finishedAt: new Date() },
    });
    throw new AppError("unavailable", error);
  }
  const created = await db.run.findUniqueOrThrow({ where: { id: run.id }, include: RUN_VIEW_INCLUDE });
  return toRunView(created);
}

async function resolveModel(workspaceId: string, config: RunConfig): Promise<string | null> {
  const { db } = getContext();
  const model = await db.model.findFirst({
    where: {
      workspaceId,
      OR: [{ id: config.model.id }, { name: config.model.id }, { hubId: config.model.id }],
    },
    select: { id: true, name: true, engines: true },
  });
  if (model) {
    if (model.engines.length > 0 && !model.engines.includes(config.engine)) {
      const reason = `model ${model.name} runs on ${model.engines.join(", ")}, not on the ${config.engine} engine`;
      throw new AppError("unprocessable", reason, [{ field: "body.config.engine", message: reason }]);
    }
    return model.id;
  }
  if (config.engine === "hf" && HUB_ID.test(config.model.id)) return null;
  const reason =
    config.engine === "hf"
      ? `model ${config.model.id} is neither a model of this workspace nor a Hub id (owner/name)`
      : `model ${config.model.id} does not exist in this workspace`;
  throw new AppError("unprocessable", reason, [{ field: "body.config.model.id", message: reason }]);
}

export const RUN_VIEW_INCLUDE = {
  claimedBy: { select: { id: true, host: true } },
  launchedBy: { select: { id: true, name: true } },
  model: { select: { id: true, name: true, hubId: true } },
  datasetVersion: { select: { id: true, version: true, dataset: { select: { id: true, name: true } } } },
} as const;
