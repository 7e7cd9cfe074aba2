import "server-only";
import { newId, type Prisma } from "@distillery/db";
import { TEACHER_MODEL_PREFIX, ZEvalSet, ZEvalSettings } from "@distillery/evals/evaluations/schemas";
import { listServableModels } from "@distillery/inference";
import { QUEUES } from "@distillery/jobs";
import { z } from "zod";
import { AppError, getContext } from "@/lib/server/route.ts";
import { toEvaluationView } from "./evaluation-view.ts";

export const ZCreateEvaluations = z.object({
  /** 1–4 served models, each evaluated on the same set with the same settings */
  models: z.array(z.string().min(1)).min(1, "pick at least one model").max(4, "at most 4 models at once"),
  evalSet: ZEvalSet,
  settings: ZEvalSettings.default({ temperature: 0, topP: 1, maxTokens: 256, k: 1, seed: 0 }),
  name: z.string().trim().max(200).optional(),
});

/**
 * One Evaluation row per model, then one queue job each (jobId = evaluation id, so a retried
 * enqueue cannot queue it twice). The row is the truth: while Redis is down it stays queued.
 */
export async function createEvaluations(
  actor: { workspaceId: string; userId: string },
  input: z.infer<typeof ZCreateEvaluations>,
) {
  const { db, producer } = getContext();
  const set = input.evalSet;
  const known = new Set((await listServableModels(db, actor.workspaceId)).map((m) => m.id));
  // a teacher endpoint of the workspace is evaluated as `teacher:<id>` (named after the teacher)
  const teachers = new Map(
    (
      await db.teacher.findMany({
        where: { workspaceId: actor.workspaceId },
        select: { id: true, name: true },
      })
    ).map((t) => [`${TEACHER_MODEL_PREFIX}${t.id}`, t.name]),
  );
  input.models.forEach((m, i) => {
    if (!known.has(m) && !teachers.has(m))
      throw new AppError("validation_failed", `models[${i}]: no model ${m} in this workspace`, [
        { field: `body.models.${i}`, message: `no model ${m}` },
      ]);
  });
  const version =
    set.kind === "version"
      ? await db.datasetVersion.findFirst({
          where: { id: set.versionId, workspaceId: actor.workspaceId },
          include: { dataset: { select: { name: true } } },
        })
      : null;
  if (set.kind === "version" && !version)
    throw new AppError("validation_failed", "evalSet.versionId: no such dataset version", [
      { field: "body.evalSet.versionId", message: "no such dataset version" },
    ]);
  const run =
    set.kind === "run-heldout"
      ? await db.run.findFirst({ where: { id: set.runId, workspaceId: actor.workspaceId } })
      : null;
  if (set.kind === "run-heldout" && !run)
    throw new AppError("validation_failed", "evalSet.runId: no such run", [
      { field: "body.evalSet.runId", message: "no such run" },
    ]);
  const rows = [];
  for (const model of input.models) {
    const row = await db.evaluation.create({
      data: {
        id: newId("eval"),
        workspaceId: actor.workspaceId,
        name: `${input.name ? `${input.name} · ` : ""}${teachers.get(model) ?? model} on ${
          run
            ? `${run.name} held-out`
            : version
              ? `${version.dataset.name} v${version.version}`
              : "dataset version"
        }`,
        model,
        evalSet: set as Prisma.InputJsonValue,
        settings: input.settings as Prisma.InputJsonValue,
        runId: run?.id ?? null,
        createdById: actor.userId || null,
      },
    });
    rows.push(row);
    await producer
      .enqueue(
        QUEUES.evaluations,
        { evaluationId: row.id, workspaceId: actor.workspaceId },
        { jobId: `${row.id}-${row.attempt}` },
      )
      .catch((e: Error) => console.warn(`[web] evaluation ${row.id} stays queued: ${e.message}`));
  }
  return rows.map(toEvaluationView);
}

/** Re-queues a cancelled, failed or interrupted evaluation; it resumes from its stored examples. */
export async function resumeEvaluation(workspaceId: string, id: string) {
  const { db, producer } = getContext();
  const updated = await db.evaluation.updateMany({
    where: { id, workspaceId, status: { in: ["cancelled", "failed", "running"] } },
    data: { status: "queued", cancelRequestedAt: null, error: null, finishedAt: null },
  });
  if (updated.count === 0)
    throw new AppError("conflict", "only a cancelled, failed or stuck evaluation can be resumed");
  await producer.enqueue(
    QUEUES.evaluations,
    { evaluationId: id, workspaceId },
    { jobId: `${id}-resume-${Date.now()}` },
  );
  return toEvaluationView(await db.evaluation.findUniqueOrThrow({ where: { id } }));
}

/** Asks a queued or running evaluation to stop; its worker stops between examples. */
export async function cancelEvaluation(workspaceId: string, id: string) {
  const { db } = getContext();
  const row = await db.evaluation.findFirst({ where: { id, workspaceId } });
  if (!row) throw new AppError("not_found", `no evaluation ${id}`);
  if (row.status === "queued") {
    await db.evaluation.update({
      where: { id },
      data: { status: "cancelled", cancelRequestedAt: new Date(), finishedAt: new Date() },
    });
  } else if (row.status === "running") {
    await db.evaluation.update({ where: { id }, data: { cancelRequestedAt: new Date() } });
  } else throw new AppError("conflict", `the evaluation is ${row.status}`);
  return toEvaluationView(await db.evaluation.findUniqueOrThrow({ where: { id } }));
}
