import { ZImportRequest } from "@/features/datasets/lib/dataset-requests.ts";
import { startImport } from "@/features/datasets/server/start-dataset-job.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const POST = withRoute({
  permission: "write",
  schemas: { body: ZImportRequest },
  handler: async ({ actor, body }) => startImport(actor, body),
});
