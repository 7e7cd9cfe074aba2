import { z } from "zod";
import { receiveUpload } from "@/features/datasets/server/receive-upload.ts";
import { checkModelUploadPath } from "@/features/models/lib/model-requests.ts";
import { modelUploadKey } from "@/features/models/server/start-model-job.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import { getEnv } from "@/lib/server/env.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** One file of a folder upload, streamed to blob storage; ?path= is its path inside the folder. */
export const PUT = withRoute({
  permission: "write",
  schemas: {
    params: z.object({ uploadId: z.string().regex(/^[a-f0-9]{32}$/, "not an upload id") }),
    query: z.object({ path: z.string().min(1).max(500) }),
  },
  handler: async ({ actor, req, params, query }) => {
    const problem = checkModelUploadPath(query.path);
    if (problem)
      throw new AppError("validation_failed", problem, [{ field: "query.path", message: problem }]);
    const { bytes } = await receiveUpload({
      body: req.body,
      contentLength: req.headers.get("content-length"),
      store: getContext().store,
      key: modelUploadKey(actor, params.uploadId, query.path),
      maxBytes: getEnv().MODEL_FILE_MAX_BYTES,
    });
    return { path: query.path, bytes };
  },
});
