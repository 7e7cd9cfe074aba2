import "server-only";
import type { Prisma } from "@distillery/db";
import { QUEUES, QueueUnavailableError } from "@distillery/jobs";
import {
  type GenerationConfigInput,
  listTeacherModels,
  maxRequestsOf,
  PromptInputError,
  type PromptItem,
  parsePromptFile,
  selectPrompts,
  ZGenerationConfig,
} from "@distillery/teacher";
import { createGenerationJob, loadTeacherEndpoint } from "@distillery/teacher/store";
import { getTeacherSecretKey } from "@/features/teachers/server/teacher-secret-key.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import type { Actor } from "@/lib/server/with-route.ts";
import type { CreateGenerationBody } from "./generation-schemas.ts";

const fieldError = (field: string, message: string) =>
  new AppError("validation_failed", `${field}: ${message}`, [{ field, message }]);

/**
 * Checks everything before a single request goes to the teacher: the teacher exists and
 * answers like one (its model list: HTML, nothing or a refused key is an error naming it), the
 * prompts parse and the columns exist. Then writes the job and enqueues it.
 */
export async function createGeneration(actor: Actor, body: CreateGenerationBody) {
  const { db, producer } = getContext();
  const endpoint = await loadTeacherEndpoint(db, getTeacherSecretKey(), actor.workspaceId, body.teacherId);
  if (!endpoint) throw fieldError("body.teacherId", "no such teacher");

  let prompts: PromptItem[] | null = null;
  let total: number;
  let sourceName: string;
  let source: GenerationConfigInput["source"];
  if (body.source.kind === "version") {
    const version = await db.datasetVersion.findFirst({
      where: { id: body.source.versionId, workspaceId: actor.workspaceId },
      include: { dataset: { select: { name: true } } },
    });
    if (!version) throw fieldError("body.source.versionId", "no such dataset version");
    if (version.status !== "ready")
      throw fieldError("body.source.versionId", `the version is ${version.status}`);
    if (version.rowCount === 0) throw fieldError("body.source.versionId", "the version has no rows");
    total = version.rowCount;
    sourceName = `${version.dataset.name} v${version.version}`;
    source = {
      kind: "version",
      versionId: version.id,
      promptColumn: body.source.promptColumn,
      referenceColumn: body.source.referenceColumn,
    };
  } else {
    try {
      const table = parsePromptFile(body.source.text, {
        field: "body.source.text",
        ...(body.source.fileName ? { fileName: body.source.fileName } : {}),
      });
      prompts = selectPrompts(
        table,
        { prompt: body.source.promptColumn, reference: body.source.referenceColumn },
        { prompt: "body.source.promptColumn", reference: "body.source.referenceColumn" },
      ).prompts;
    } catch (e) {
      if (e instanceof PromptInputError) throw fieldError(e.field, e.message);
      throw e;
    }
    total = prompts.length;
    sourceName = body.source.fileName ?? "pasted prompts";
    source = { kind: "prompts", ...(body.source.fileName ? { fileName: body.source.fileName } : {}) };
  }

  try {
    await listTeacherModels(endpoint, { timeoutMs: 10_000 });
  } catch (e) {
    throw new AppError("unprocessable", (e as Error).message, [
      { field: "body.teacherId", message: (e as Error).message },
    ]);
  }

  const name = body.name ?? `${endpoint.name} on ${sourceName}`;
  const config = ZGenerationConfig.parse({
    source,
    sampling: body.sampling,
    samplesPerPrompt: body.samplesPerPrompt,
    rejectionAttempts: body.rejectionAttempts,
    keepOnlyVerified: body.keepOnlyVerified,
    concurrency: body.concurrency,
    requestsPerMinute: body.requestsPerMinute,
    tokensPerMinute: body.tokensPerMinute,
    maxTries: body.maxTries,
    outputDatasetName: body.outputDatasetName ?? name,
  });
  const job = await createGenerationJob(db, {
    workspaceId: actor.workspaceId,
    name,
    teacherId: body.teacherId,
    config: config as unknown as Prisma.InputJsonValue,
    prompts: prompts as unknown as Prisma.InputJsonValue,
    total: maxRequestsOf(config, total),
    createdById: actor.userId,
  });
  try {
    await producer.enqueue(
      QUEUES.generations,
      { generationJobId: job.id, workspaceId: actor.workspaceId },
      { jobId: job.id },
    );
  } catch (e) {
    // Redis is down: the job waits paused, and Resume enqueues it once the queue is back
    if (e instanceof QueueUnavailableError) {
      await db.generationJob.updateMany({
        where: { id: job.id, status: "queued" },
        data: { status: "paused" },
      });
      throw new AppError("unavailable", `the queue is down: job ${job.id} is saved, paused; resume it later`);
    }
    throw e;
  }
  return { id: job.id, name: job.name, total: job.total };
}
