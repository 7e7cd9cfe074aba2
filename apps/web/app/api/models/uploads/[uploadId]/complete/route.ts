import { z } from "zod";
import { ZCompleteModelUpload } from "@/features/models/lib/model-requests.ts";
import { completeModelUpload } from "@/features/models/server/start-model-job.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const POST = withRoute({
  permission: "write",
  schemas: { params: z.object({ uploadId: z.string().regex(/^[a-f0-9]{32}$/) }), body: ZCompleteModelUpload },
  handler: async ({ actor, params, body }) =>
    Response.json(await completeModelUpload(actor, params.uploadId, body.name), { status: 202 }),
});
