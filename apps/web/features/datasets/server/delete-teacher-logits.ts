import "server-only";
import { teacherLogitsPrefix } from "@distillery/catalog";
import { assertCanManage } from "@/features/auth/server/ownership.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import type { Actor } from "@/lib/server/with-route.ts";

/** statuses whose row no worker holds: the artifact may be deleted (deleting: a retry) */
const SETTLED = ["ready", "estimated", "failed", "cancelled", "deleting"];
const ACTIVE_RUN_STATUSES = ["queued", "claimed", "running"] as const;

/**
 * Deletes a stored teacher-logits artifact: its files in blob storage, then its row. Members
 * delete their own, admins anyone's. Refused with 409 while a worker computes it (cancel first)
 * or while a queued or running run reads it (naming the run).
 *
 * Nothing is left half-deleted: the row turns `deleting` first (a conditional update, so no
 * computation starts and no launch accepts it from then on: the launch wants `ready`), then
 * the runs are checked (one found: the status goes back), then the files go, then the row. If
 * storage fails partway the row stays, `failed` with the reason, and a second delete finishes.
 */
export async function deleteTeacherLogits(actor: Actor, versionId: string, artifactId: string) {
  const { db, store } = getContext();
  const row = await db.teacherLogits.findFirst({
    where: { id: artifactId, workspaceId: actor.workspaceId, versionId },
    select: { id: true, status: true, createdById: true, blobPrefix: true, teacherName: true },
  });
  if (!row)
    throw new AppError("not_found", `teacher logits ${artifactId} do not exist for version ${versionId}`);
  assertCanManage(actor, row.createdById, `teacher logits ${artifactId}`);
  const claimed = await db.teacherLogits.updateMany({
    where: { id: row.id, status: { in: SETTLED } },
    data: { status: "deleting" },
  });
  if (claimed.count !== 1) {
    const now = await db.teacherLogits.findUnique({ where: { id: row.id }, select: { status: true } });
    throw new AppError(
      "conflict",
      `teacher logits ${artifactId} are ${now?.status ?? "gone"}: a worker is computing them, cancel it first`,
    );
  }
  const run = await db.run.findFirst({
    where: {
      workspaceId: actor.workspaceId,
      status: { in: [...ACTIVE_RUN_STATUSES] },
      config: { path: ["distillation", "teacherLogits", "artifactId"], equals: row.id },
    },
    select: { id: true, name: true, status: true },
    orderBy: { createdAt: "asc" },
  });
  if (run) {
    await db.teacherLogits.updateMany({
      where: { id: row.id, status: "deleting" },
      data: { status: row.status === "deleting" ? "failed" : row.status },
    });
    throw new AppError(
      "conflict",
      `teacher logits ${artifactId} are read by run ${run.name} (${run.id}, ${run.status}): cancel it or let it finish first`,
    );
  }
  const prefix = `${(row.blobPrefix ?? teacherLogitsPrefix(row.id)).replace(/\/+$/, "")}/`;
  let files = 0;
  try {
    for (const key of await store.list(prefix)) {
      await store.delete(key);
      files++;
    }
  } catch (e) {
    await db.teacherLogits.updateMany({
      where: { id: row.id, status: "deleting" },
      data: {
        status: "failed",
        error: `deleting stopped after ${files} file(s): ${(e as Error).message}; delete again to finish`,
      },
    });
    throw new AppError("unavailable", `teacher logits ${artifactId}: storage refused a delete; try again`);
  }
  await db.teacherLogits.deleteMany({ where: { id: row.id } });
  return { deleted: { id: row.id, versionId, teacherName: row.teacherName, files } };
}
