import { z } from "zod";
import { ZSaveConversation } from "@/features/playground/lib/conversation.ts";
import { getConversation, saveConversation } from "@/features/playground/server/conversations.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";
const ZParams = z.object({ conversationId: z.string().min(1) });

export const GET = withRoute({
  permission: "read",
  schemas: { params: ZParams },
  handler: async ({ actor, params }) => getConversation(actor.workspaceId, params.conversationId),
});

export const PUT = withRoute({
  permission: "write",
  schemas: { params: ZParams, body: ZSaveConversation },
  handler: async ({ actor, params, body }) =>
    saveConversation(actor.workspaceId, params.conversationId, body),
});
