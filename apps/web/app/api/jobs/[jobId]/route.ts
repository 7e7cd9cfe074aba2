import { z } from "zod";
import { getEchoJob } from "@/features/jobs/server/echo-jobs.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: { params: z.object({ jobId: z.string().min(1) }) },
  handler: async ({ actor, params }) => ({ job: await getEchoJob(actor, params.jobId) }),
});
