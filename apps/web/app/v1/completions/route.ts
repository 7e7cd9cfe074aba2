import { handleCompletions } from "@distillery/inference";
import { withOpenAiErrors } from "@/features/serving/server/openai-route.ts";
import { getV1Deps } from "@/features/serving/server/serving.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** OpenAI-compatible (legacy) text completions: the prompt is used as given, no chat template. */
export const POST = withOpenAiErrors(
  withRoute({
    permission: "read",
    handler: ({ req, actor }) => handleCompletions(getV1Deps(actor.workspaceId), req),
  }),
);
