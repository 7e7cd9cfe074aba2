import { z } from "zod";
import { retryFailedRows } from "@/features/generations/server/generation-actions.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Retry failed rows: ask the teacher again for the rows that failed, and only those. */
export const POST = withRoute({
  permission: "write",
  schemas: { params: z.object({ jobId: z.string().min(1) }) },
  handler: async ({ actor, params }) => retryFailedRows(actor, params.jobId),
});
