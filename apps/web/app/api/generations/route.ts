import { createGeneration } from "@/features/generations/server/create-generation.ts";
import { ZCreateGenerationBody } from "@/features/generations/server/generation-schemas.ts";
import { listGenerationViews } from "@/features/generations/server/generation-view.ts";
import { withRoute } from "@/lib/server/route.ts";
import { resultId } from "@/lib/server/with-route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => ({ jobs: await listGenerationViews(actor.workspaceId) }),
});

/** Generate with a teacher: checked (teacher, prompts, columns) before any request is sent. */
export const POST = withRoute({
  permission: "write",
  maxBodyBytes: 60_000_000,
  schemas: { body: ZCreateGenerationBody },
  audit: ({ result }) => ({
    action: "generation.launch",
    targetType: "generation",
    targetId: resultId(result),
  }),
  handler: async ({ actor, body }) => createGeneration(actor, body),
});
