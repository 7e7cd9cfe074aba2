import { ZSaveConversation } from "@/features/playground/lib/conversation.ts";
import { createConversation, listConversations } from "@/features/playground/server/conversations.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => ({ conversations: await listConversations(actor.workspaceId) }),
});

export const POST = withRoute({
  permission: "write",
  schemas: { body: ZSaveConversation },
  handler: async ({ actor, body }) => Response.json(await createConversation(actor, body), { status: 201 }),
});
