import { createEchoJob, ZCreateEchoJob } from "@/features/jobs/server/echo-jobs.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const POST = withRoute({
  permission: "write",
  schemas: { body: ZCreateEchoJob },
  handler: async ({ actor, body }) =>
    Response.json({ job: await createEchoJob(actor, body) }, { status: 201 }),
});
