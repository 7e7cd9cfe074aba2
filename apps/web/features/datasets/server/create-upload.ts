import "server-only";
import { randomBytes } from "node:crypto";
import { DatasetError, previewSource, type SourcePreview, sanitizeFileName } from "@distillery/datasets";
import { AppError } from "@/lib/server/app-error.ts";
import type { Actor } from "@/lib/server/with-route.ts";
import { getDatasetsContext } from "./datasets-env.ts";
import { receiveUpload } from "./receive-upload.ts";

export interface UploadView {
  uploadId: string;
  fileName: string;
  bytes: number;
  preview: SourcePreview;
}

export const uploadKey = (workspaceId: string, uploadId: string) => `uploads/${workspaceId}/${uploadId}`;

/**
 * POST /api/datasets/uploads: the raw body streams to a temp blob; then its first rows are
 * previewed (format, columns, detected shape) for the mapping editor. A file the engine cannot
 * read at all is refused here (422, naming file and line) and removed; the import job removes
 * the temp blob once it has run.
 */
export async function createUpload(
  actor: Actor,
  req: Request,
  fileNameParam: string | undefined,
): Promise<UploadView> {
  const { env, store } = getDatasetsContext();
  const fileName = sanitizeFileName(fileNameParam ?? req.headers.get("x-file-name"));
  const uploadId = `up_${randomBytes(8).toString("hex")}`;
  const key = uploadKey(actor.workspaceId, uploadId);
  const { bytes } = await receiveUpload({
    body: req.body,
    contentLength: req.headers.get("content-length"),
    store,
    key,
    maxBytes: env.DATASET_UPLOAD_MAX_BYTES,
  });
  try {
    const local = store.localPath(key);
    const preview = await previewSource(
      local ? { path: local, fileName } : { stream: await store.get(key), fileName },
      {
        rows: 20,
      },
    );
    return { uploadId, fileName, bytes, preview };
  } catch (e) {
    await store.delete(key).catch(() => {});
    if (e instanceof DatasetError) throw new AppError("unprocessable", e.message);
    throw e;
  }
}
