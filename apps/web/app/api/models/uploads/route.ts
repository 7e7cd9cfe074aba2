import { createModelUpload } from "@/features/models/server/start-model-job.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const POST = withRoute({
  permission: "write",
  handler: async ({ actor }) => Response.json(createModelUpload(actor), { status: 201 }),
});
