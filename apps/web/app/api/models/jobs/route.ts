import { listModelJobs } from "@/features/models/server/start-model-job.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => ({ jobs: await listModelJobs(actor.workspaceId) }),
});
