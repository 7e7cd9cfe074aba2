import "server-only";
import { requestCancelRun } from "@distillery/db";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";

/**
 * A queued run is cancelled at once (its queued job finds it no longer queued and skips it); a
 * running one gets cancelRequestedAt, which its worker sees on its next heartbeat and answers by
 * stopping the engine. A finished run cannot be cancelled (409).
 */
export async function cancelRun(workspaceId: string, runId: string) {
  const status = await requestCancelRun(getContext().db, workspaceId, runId);
  if (status === null) throw new AppError("not_found", `run ${runId} not found`);
  if (status === "succeeded" || status === "failed")
    throw new AppError("conflict", `run ${runId} already ${status}`);
  return { runId, status, isCancelRequested: true };
}
