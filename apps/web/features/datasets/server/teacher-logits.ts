import "server-only";
import { createTeacherLogitsRequest, listTeacherLogits } from "@distillery/catalog";
import { CHAT_TEMPLATE_IDS } from "@distillery/core";
import { QUEUES, QueueUnavailableError, type TeacherLogitsPayload } from "@distillery/jobs";
import { z } from "zod";
import { assertCanManage } from "@/features/auth/server/ownership.ts";
import { checkEndpointSharesTokenizer } from "@/features/runs/server/check-endpoint-teacher.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import type { Actor } from "@/lib/server/with-route.ts";

/** POST /api/dataset-versions/:versionId/teacher-logits: what to estimate (then compute). */
export const ZTeacherLogitsRequest = z.object({
  /**
   * the teacher model; with `teacherEndpointId`, the model whose tokenizer (and chat template)
   * the rows are tokenized with — the endpoint must share it, as the runs reading the artifact
   */
  teacherModelId: z.string().min(1, "pick the teacher model"),
  /** a teacher endpoint of the workspace (OpenAI-compatible, vLLM's prompt_logprobs) scores the rows */
  teacherEndpointId: z.string().min(1).optional(),
  k: z.number().int().min(1, "k is 1 or more").max(1000, "k is at most 1000").default(20),
  maxSeqLength: z.number().int().min(8).max(131072).default(1024),
  /** the chat template and system prompt runs on this artifact will render with */
  template: z.enum(CHAT_TEMPLATE_IDS).default("phi3"),
  systemPrompt: z.string().max(20_000).optional(),
});
export type TeacherLogitsRequest = z.input<typeof ZTeacherLogitsRequest>;

export const ZTeacherLogitsAction = z.object({ action: z.enum(["compute", "cancel"]) });

export interface TeacherLogitsView {
  id: string;
  versionId: string;
  teacherModelId: string;
  /** set when a teacher endpoint scores the rows (teacherModelId then supplies the tokenizer) */
  teacherEndpointId: string | null;
  teacherName: string;
  k: number;
  maxSeqLength: number;
  template: string;
  systemPrompt: string | null;
  status: string;
  /**
   * size exact; time from one timed teacher batch (for an endpoint: its measured scoring rate,
   * positionsPerSecond; seconds null when it could not be measured)
   */
  estimate: {
    rows: number;
    positions: number;
    bytes: number;
    seconds: number | null;
    positionsPerSecond?: number;
  } | null;
  progress: { rowsDone?: number; rows?: number };
  tokenizerSha256: string | null;
  rows: number | null;
  positions: number | null;
  bytes: number;
  seconds: number | null;
  error: string | null;
  cancelRequested: boolean;
  createdAt: string;
  finishedAt: string | null;
}

type Row = Awaited<ReturnType<typeof listTeacherLogits>>[number];

export function toView(r: Row): TeacherLogitsView {
  return {
    id: r.id,
    versionId: r.versionId,
    teacherModelId: r.teacherModelId,
    teacherEndpointId: r.teacherEndpointId,
    teacherName: r.teacherName,
    k: r.k,
    maxSeqLength: r.maxSeqLength,
    template: r.template,
    systemPrompt: r.systemPrompt,
    status: r.status,
    estimate: (r.estimate as TeacherLogitsView["estimate"]) ?? null,
    progress: (r.progress ?? {}) as TeacherLogitsView["progress"],
    tokenizerSha256: r.tokenizerSha256,
    rows: r.rows,
    positions: r.positions,
    bytes: Number(r.bytes),
    seconds: r.seconds,
    error: r.error,
    cancelRequested: r.cancelRequestedAt !== null,
    createdAt: r.createdAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

async function readyVersion(workspaceId: string, versionId: string) {
  const version = await getContext().db.datasetVersion.findFirst({
    where: { id: versionId, workspaceId },
    select: { id: true, status: true },
  });
  if (!version) throw new AppError("not_found", `dataset version ${versionId} does not exist`);
  return version;
}

async function enqueue(payload: TeacherLogitsPayload) {
  try {
    await getContext().producer.enqueue(QUEUES.teacherLogits, payload, {
      jobId: `${payload.artifactId}-${payload.phase}`,
    });
  } catch (e) {
    if (!(e instanceof QueueUnavailableError)) throw e;
    throw new AppError("unavailable", `the job queue is unavailable (${e.message}); try again shortly`);
  }
}

export async function listVersionTeacherLogits(actor: Actor, versionId: string) {
  await readyVersion(actor.workspaceId, versionId);
  const rows = await listTeacherLogits(getContext().db, actor.workspaceId, versionId);
  return { artifacts: rows.map(toView) };
}

/** Creates the artifact row and queues its estimate (size exact, time from one timed batch). */
export async function startTeacherLogits(
  actor: Actor,
  versionId: string,
  body: z.infer<typeof ZTeacherLogitsRequest>,
) {
  const { db } = getContext();
  const version = await readyVersion(actor.workspaceId, versionId);
  if (version.status !== "ready")
    throw new AppError("unprocessable", `dataset version ${versionId} is ${version.status}, not ready`, [
      { field: "params.versionId", message: "not ready" },
    ]);
  const teacher = await db.model.findFirst({
    where: { id: body.teacherModelId, workspaceId: actor.workspaceId },
    select: { id: true, name: true, engines: true, location: true },
  });
  if (!teacher) {
    const reason = `${body.teacherEndpointId ? "tokenizer" : "teacher"} model ${body.teacherModelId} does not exist in this workspace`;
    throw new AppError("unprocessable", reason, [{ field: "body.teacherModelId", message: reason }]);
  }
  // an endpoint scores the rows: the model only tokenizes them, so its engines do not matter;
  // the endpoint must be OpenAI-compatible and share the model's tokenizer (the run launch's check)
  const endpoint = body.teacherEndpointId
    ? await checkEndpointSharesTokenizer({
        workspaceId: actor.workspaceId,
        teacherId: body.teacherEndpointId,
        model: teacher,
        role: "tokenizer model",
        specialTokens: [],
        field: "body.teacherEndpointId",
      })
    : null;
  if (!endpoint && teacher.engines.length > 0 && !teacher.engines.includes("local")) {
    const reason = `teacher model ${teacher.name} does not run on the local (CPU) engine that computes teacher logits`;
    throw new AppError("unprocessable", reason, [{ field: "body.teacherModelId", message: reason }]);
  }
  const row = await createTeacherLogitsRequest(db, {
    workspaceId: actor.workspaceId,
    versionId,
    teacherModelId: teacher.id,
    teacherName: endpoint ? `endpoint ${endpoint.name} (${endpoint.model})` : teacher.name,
    k: body.k,
    maxSeqLength: body.maxSeqLength,
    template: body.template,
    ...(body.systemPrompt ? { systemPrompt: body.systemPrompt } : {}),
    createdById: actor.userId || null,
  });
  const created = endpoint
    ? await db.teacherLogits.update({ where: { id: row.id }, data: { teacherEndpointId: endpoint.id } })
    : row;
  try {
    await enqueue({ artifactId: row.id, workspaceId: actor.workspaceId, phase: "estimate" });
  } catch (e) {
    await db.teacherLogits.update({
      where: { id: row.id },
      data: { status: "failed", error: "the estimate could not be queued", finishedAt: new Date() },
    });
    throw e;
  }
  return { artifact: toView(created) };
}

/** `compute` an estimated artifact, or `cancel` one that is waiting or being worked on. */
export async function teacherLogitsAction(
  actor: Actor,
  versionId: string,
  artifactId: string,
  action: "compute" | "cancel",
) {
  const { db } = getContext();
  const row = await db.teacherLogits.findFirst({
    where: { id: artifactId, workspaceId: actor.workspaceId, versionId },
  });
  if (!row)
    throw new AppError("not_found", `teacher logits ${artifactId} do not exist for version ${versionId}`);
  // members start and stop their own computations; admins anyone's
  assertCanManage(actor, row.createdById, `teacher logits ${artifactId}`);
  if (action === "compute") {
    const { count } = await db.teacherLogits.updateMany({
      where: { id: row.id, status: "estimated" },
      data: { status: "queued", progress: {}, finishedAt: null },
    });
    if (count !== 1)
      throw new AppError(
        "conflict",
        `teacher logits ${artifactId} are ${row.status}: only an estimated artifact is computed`,
      );
    try {
      await enqueue({ artifactId: row.id, workspaceId: actor.workspaceId, phase: "compute" });
    } catch (e) {
      await db.teacherLogits.updateMany({
        where: { id: row.id, status: "queued" },
        data: { status: "estimated" },
      });
      throw e;
    }
  } else {
    // not yet claimed by a worker: cancelled here; being worked on: the worker stops its child
    const now = new Date();
    const direct = await db.teacherLogits.updateMany({
      where: {
        id: row.id,
        OR: [{ status: { in: ["estimated", "queued"] } }, { status: "estimating", heartbeatAt: null }],
      },
      data: {
        status: "cancelled",
        cancelRequestedAt: now,
        error: "cancelled at the user's request",
        finishedAt: now,
      },
    });
    if (direct.count === 0) {
      const { count } = await db.teacherLogits.updateMany({
        where: { id: row.id, status: { in: ["estimating", "running"] } },
        data: { cancelRequestedAt: now },
      });
      if (count === 0)
        throw new AppError("conflict", `teacher logits ${artifactId} are ${row.status}: nothing to cancel`);
    }
  }
  return { artifact: toView(await db.teacherLogits.findUniqueOrThrow({ where: { id: row.id } })) };
}
