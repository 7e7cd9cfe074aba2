import { z } from "zod";
import { renderPrompt } from "@/features/playground/server/render-prompt.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const POST = withRoute({
  permission: "read",
  schemas: {
    body: z.object({
      model: z.string().min(1),
      messages: z
        .array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() }))
        .min(1),
    }),
  },
  handler: async ({ actor, body }) => renderPrompt(actor.workspaceId, body.model, body.messages),
});
