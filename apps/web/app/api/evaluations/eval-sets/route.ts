import { uploadEvalSet, ZUploadEvalSet } from "@/features/evaluations/server/upload-eval-set.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** An uploaded prompt/answer file becomes an eval set (a dataset version evaluations read). */
export const POST = withRoute({
  permission: "write",
  maxBodyBytes: 21_000_000,
  schemas: { body: ZUploadEvalSet },
  handler: async ({ actor, body }) => Response.json(await uploadEvalSet(actor, body), { status: 201 }),
});
