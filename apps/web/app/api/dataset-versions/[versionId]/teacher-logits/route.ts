import { z } from "zod";
import {
  listVersionTeacherLogits,
  startTeacherLogits,
  ZTeacherLogitsRequest,
} from "@/features/datasets/server/teacher-logits.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

const params = z.object({ versionId: z.string().min(1) });

/** The version's stored teacher logits (estimates, computations, ready artifacts), newest first. */
export const GET = withRoute({
  permission: "read",
  schemas: { params },
  handler: async ({ actor, params }) => listVersionTeacherLogits(actor, params.versionId),
});

/** A new artifact: its size and time are estimated first (a worker job); computing is a second step. */
export const POST = withRoute({
  permission: "write",
  schemas: { params, body: ZTeacherLogitsRequest },
  handler: async ({ actor, params, body }) => startTeacherLogits(actor, params.versionId, body),
});
