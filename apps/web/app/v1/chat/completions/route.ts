import { handleChatCompletions } from "@distillery/inference";
import { withOpenAiErrors } from "@/features/serving/server/openai-route.ts";
import { getV1Deps } from "@/features/serving/server/serving.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** OpenAI-compatible chat completions (streamed or not) with any model the workspace holds. */
export const POST = withOpenAiErrors(
  withRoute({
    permission: "read",
    handler: ({ req, actor }) => handleChatCompletions(getV1Deps(actor.workspaceId), req),
  }),
);
