import { ZAddModelRequest } from "@/features/models/lib/model-requests.ts";
import { startAddModel } from "@/features/models/server/start-model-job.ts";
import { listModels } from "@/features/runs/server/list-models.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => ({ models: await listModels(actor.workspaceId) }),
});

/** Adds a model from the Hub (a download job) or from a folder on a worker (registered in place). */
export const POST = withRoute({
  permission: "write",
  schemas: { body: ZAddModelRequest },
  handler: async ({ actor, body }) => Response.json(await startAddModel(actor, body), { status: 202 }),
});
