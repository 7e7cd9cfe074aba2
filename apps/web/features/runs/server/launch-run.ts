import "server-only";
import {
  bullmqPriorityFor,
  describeTokenizerDifference,
  featureLayerIssues,
  firstTokenizerDifference,
  queueRankFor,
  type RunConfig,
  ZRunConfig,
} from "@distillery/core";
import { createRun, type Prisma } from "@distillery/db";
import { QueueUnavailableError, runQueueFor } from "@distillery/jobs";
import { z } from "zod";
import { checkTeacherLogitsArtifact } from "@/features/datasets/server/teacher-logits-launch.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import type { Actor } from "@/lib/server/with-route.ts";
import { checkEndpointTeacher } from "./check-endpoint-teacher.ts";
import { toRunView } from "./run-view.ts";
import { readModelTokenizer } from "./teacher-tokenizers.ts";

/** The body of POST /api/runs: field errors read `body.config.training.learningRate`. */
export const ZLaunchRun = z.object({ config: ZRunConfig });

/** owner/name, as the Hugging Face Hub spells repository ids */
const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/**
 * Launches a run: the config is already parsed; the model and the dataset version must exist
 * in the workspace (422 naming the field otherwise). The row is written first, then the job is
 * enqueued with jobId = run id (a retried enqueue cannot queue it twice); while Redis is down
 * the run stays queued (201) and the workers' queue sweeper enqueues it once Redis is back.
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
  // every other version the run reads must be ready in this workspace too (another
  // workspace's id would otherwise be accepted here and fail later in the worker)
  await checkReadyVersion(
    actor.workspaceId,
    config.data.evalDatasetVersionId,
    "body.config.data.evalDatasetVersionId",
  );
  await checkReadyVersion(
    actor.workspaceId,
    config.evaluation?.datasetVersionId,
    "body.config.evaluation.datasetVersionId",
  );
  await checkDistillationTeacher(actor.workspaceId, config, modelId);
  await checkEndpointTeacher(actor.workspaceId, config, modelId);
  await checkTeacherLogitsArtifact(actor.workspaceId, config, modelId);
  // users take turns within a priority: the launcher's n-th waiting run ranks behind others' first
  const waiting = { status: "queued" as const, engine: config.engine, priority: 0 };
  const [userWaiting, workspaceWaiting] = await Promise.all([
    db.run.count({ where: { ...waiting, launchedById: actor.userId || null } }),
    db.run.count({ where: { ...waiting, workspaceId: actor.workspaceId } }),
  ]);
  const queueRank = queueRankFor({ userWaiting, workspaceWaiting });
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
    queueRank,
  });
  try {
    await producer.enqueue(
      runQueueFor(config.engine),
      { runId: run.id, workspaceId: actor.workspaceId },
      { jobId: run.id, priority: bullmqPriorityFor(0, queueRank) },
    );
  } catch (e) {
    if (!(e instanceof QueueUnavailableError)) throw e;
    // the row is the truth: the run stays queued and a worker's sweeper enqueues it once Redis is back
    console.warn(`[web] run ${run.id} is queued in PostgreSQL; ${e.message}: it starts once Redis is back`);
  }
  const created = await db.run.findUniqueOrThrow({ where: { id: run.id }, include: RUN_VIEW_INCLUDE });
  return toRunView(created);
}

async function checkReadyVersion(workspaceId: string, versionId: string | undefined, field: string) {
  if (!versionId) return;
  const version = await getContext().db.datasetVersion.findFirst({
    where: { id: versionId, workspaceId },
    select: { status: true },
  });
  if (version?.status === "ready") return;
  const reason = version
    ? `dataset version ${versionId} is ${version.status}, not ready`
    : `dataset version ${versionId} does not exist in this workspace`;
  throw new AppError("unprocessable", reason, [{ field, message: reason }]);
}

/**
 * Logit and on-policy runs: the teacher must be a model of this workspace, and give every token
 * id the same meaning as the student (with the run's special tokens): refused before queueing,
 * naming both tokenizers and the first differing token.
 */
async function checkDistillationTeacher(workspaceId: string, config: RunConfig, studentId: string | null) {
  const teacherRef = config.distillation.teacher?.modelId;
  if (!teacherRef || config.distillation.mode === "sft") return;
  const field = "body.config.distillation.teacher.modelId";
  const { db } = getContext();
  const teacher = await db.model.findFirst({
    where: { workspaceId, OR: [{ id: teacherRef }, { name: teacherRef }, { hubId: teacherRef }] },
    select: { id: true, name: true, location: true, parameters: true, engines: true, config: true },
  });
  if (!teacher) {
    const reason = `teacher model ${teacherRef} does not exist in this workspace`;
    throw new AppError("unprocessable", reason, [{ field, message: reason }]);
  }
  if (teacher.engines.length > 0 && !teacher.engines.includes(config.engine)) {
    const reason = `teacher model ${teacher.name} runs on ${teacher.engines.join(", ")}, not on the ${config.engine} engine`;
    throw new AppError("unprocessable", reason, [{ field, message: reason }]);
  }
  // the teacher is held in memory beside the student for the whole run: float32 on the CPU
  // engine, bf16 on GPUs; refused when no worker of the run's engine seen lately has that much
  if (teacher.parameters) {
    const bytes = Number(teacher.parameters) * (config.engine === "local" ? 4 : 2);
    const workers = await db.worker.findMany({
      where: {
        workspaceId,
        stoppedAt: null,
        engines: { has: config.engine },
        lastSeenAt: { gt: new Date(Date.now() - 5 * 60_000) },
      },
      select: { memoryMb: true },
    });
    const largest = Math.max(0, ...workers.map((w) => w.memoryMb));
    if (largest > 0 && bytes / 2 ** 20 > largest) {
      const reason = `teacher model ${teacher.name} needs about ${(bytes / 2 ** 30).toFixed(1)} GiB to hold its weights, more than the largest ${config.engine} worker's ${(largest / 1024).toFixed(1)} GiB`;
      throw new AppError("unprocessable", reason, [{ field, message: reason }]);
    }
  }
  const student = studentId
    ? await db.model.findUnique({
        where: { id: studentId },
        select: { name: true, location: true, config: true },
      })
    : null;
  if (!student) return;
  // hidden-state pairs past either model's depth (as the engine would refuse them at load)
  const depth = (c: unknown) => (c as { num_hidden_layers?: unknown } | null)?.num_hidden_layers;
  const studentDepth = depth(student.config);
  const teacherDepth = depth(teacher.config);
  if (typeof studentDepth === "number" && typeof teacherDepth === "number") {
    const issue = featureLayerIssues(config.distillation.feature, {
      student: studentDepth,
      teacher: teacherDepth,
    })[0];
    if (issue)
      throw new AppError("unprocessable", issue.message, [
        { field: `body.config.${issue.path.join(".")}`, message: issue.message },
      ]);
  }
  const [studentTok, teacherTok] = await Promise.all([
    readModelTokenizer(student.location),
    readModelTokenizer(teacher.location),
  ]);
  if (!studentTok || !teacherTok) return; // the engine checks again when it loads both
  const d = firstTokenizerDifference(studentTok, teacherTok, config.specialTokens);
  if (!d) return;
  const reason = describeTokenizerDifference(d, { student: student.name, teacher: teacher.name });
  throw new AppError("unprocessable", reason, [{ field, message: reason }]);
}

async function resolveModel(workspaceId: string, config: RunConfig): Promise<string | null> {
  const { db } = getContext();
  const model = await db.model.findFirst({
    where: {
      workspaceId,
      OR: [{ id: config.model.id }, { name: config.model.id }, { hubId: config.model.id }],
    },
    select: { id: true, name: true, engines: true, facts: true, config: true },
  });
  if (model) {
    if (model.engines.length > 0 && !model.engines.includes(config.engine)) {
      const reason = `model ${model.name} runs on ${model.engines.join(", ")}, not on the ${config.engine} engine`;
      throw new AppError("unprocessable", reason, [{ field: "body.config.engine", message: reason }]);
    }
    // past its context window a model has no position to put a token at: the engine would
    // silently cut every row there, so the run is refused naming the window
    const context =
      (model.facts as { contextLength?: number } | null)?.contextLength ??
      (model.config as { max_position_embeddings?: number } | null)?.max_position_embeddings;
    if (typeof context === "number" && config.training.maxSeqLength > context) {
      const reason = `max sequence length ${config.training.maxSeqLength} is over ${model.name}'s context of ${context} tokens`;
      throw new AppError("unprocessable", reason, [
        { field: "body.config.training.maxSeqLength", message: reason },
      ]);
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
