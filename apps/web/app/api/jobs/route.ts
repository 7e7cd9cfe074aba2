import { listEchoJobs } from "@/features/jobs/server/echo-jobs.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => ({ jobs: await listEchoJobs(actor) }),
});
