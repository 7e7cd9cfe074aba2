import { handleTokenize } from "@distillery/inference";
import { withOpenAiErrors } from "@/features/serving/server/openai-route.ts";
import { getV1Deps } from "@/features/serving/server/serving.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/**
 * vLLM's tokenizer endpoint (vLLM serves it at the root, `/tokenize`; here beside the other /v1
 * routes, where teacher clients look next): a prompt's token ids, with `return_token_strs` each
 * id's vocabulary string. A model the studio serves can then be checked as a distillation
 * teacher endpoint (same tokenizer as the student).
 */
export const POST = withOpenAiErrors(
  withRoute({
    permission: "read",
    handler: ({ req, actor }) => handleTokenize(getV1Deps(actor.workspaceId), req),
  }),
);
