import { listEchoJobs } from "@/features/jobs/server/echo-jobs.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  auth: "user",
  handler: async ({ actor }) => ({ jobs: await listEchoJobs(actor) }),
});
