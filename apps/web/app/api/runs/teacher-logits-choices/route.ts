import {
  listTeacherLogitsChoices,
  ZTeacherLogitsChoicesRequest,
} from "@/features/datasets/server/teacher-logits-choices.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/**
 * For the run form's artifact picker (logit mode): the workspace's stored teacher logits, each
 * with the reason the launch would refuse it for the posted draft (version, status, template,
 * system prompt, max length, top-k, tokenizer), or null. A POST only because the draft's system
 * prompt may be long; it changes nothing.
 */
export const POST = withRoute({
  permission: "read",
  schemas: { body: ZTeacherLogitsChoicesRequest },
  handler: async ({ actor, body }) => listTeacherLogitsChoices(actor, body),
});
