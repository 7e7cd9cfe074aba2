import "server-only";
import { createJob, getJob, listJobs } from "@distillery/db";
import { QUEUES } from "@distillery/jobs";
import { z } from "zod";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import type { Actor } from "@/lib/server/with-route.ts";

export const ZCreateEchoJob = z.object({
  message: z.string().min(1, "type a message").max(10_000, "message is over 10,000 characters"),
  delayMs: z.number().int().min(0).max(60_000).optional(),
});

function toView(j: Awaited<ReturnType<typeof getJob>> & {}) {
  return {
    id: j.id,
    kind: j.kind,
    status: j.status,
    input: j.input,
    output: j.output,
    error: j.error,
    workerId: j.workerId,
    createdAt: j.createdAt.toISOString(),
    finishedAt: j.finishedAt?.toISOString() ?? null,
  };
}
export type JobView = ReturnType<typeof toView>;

/** Writes the job row first, then enqueues: the row is the truth the worker checks. */
export async function createEchoJob(actor: Actor, input: z.infer<typeof ZCreateEchoJob>) {
  const { db, producer } = getContext();
  const job = await createJob(db, {
    workspaceId: actor.workspaceId,
    kind: "echo",
    input: { message: input.message, delayMs: input.delayMs ?? 0 },
    createdById: actor.userId,
  });
  try {
    await producer.enqueue(
      QUEUES.echo,
      { jobId: job.id, workspaceId: actor.workspaceId, message: input.message, delayMs: input.delayMs ?? 0 },
      { jobId: job.id },
    );
  } catch (e) {
    await db.job.update({
      where: { id: job.id },
      data: { status: "failed", error: `could not enqueue: ${(e as Error).message}` },
    });
    throw new AppError("unavailable", `the queue is unavailable: ${(e as Error).message}`);
  }
  return toView(job);
}

export async function getEchoJob(actor: Actor, jobId: string) {
  const job = await getJob(getContext().db, actor.workspaceId, jobId);
  if (!job) throw new AppError("not_found", `job ${jobId} not found`);
  return toView(job);
}

export async function listEchoJobs(actor: Actor) {
  return (await listJobs(getContext().db, actor.workspaceId, 20)).map(toView);
}
