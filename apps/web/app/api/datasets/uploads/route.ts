import { z } from "zod";
import { createUpload } from "@/features/datasets/server/create-upload.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** The file is the raw request body (streamed to blob storage); its name is ?fileName= or X-File-Name. */
export const POST = withRoute({
  permission: "write",
  schemas: { query: z.object({ fileName: z.string().max(1000).optional() }) },
  handler: async ({ actor, req, query }) => createUpload(actor, req, query.fileName),
});
