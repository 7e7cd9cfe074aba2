import "server-only";
import { randomBytes } from "node:crypto";
import { discardUpload, markUploadReceived, recordUpload, uploadKey } from "@distillery/catalog";
import { DatasetError, previewSource, type SourcePreview, sanitizeFileName } from "@distillery/datasets";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import type { Actor } from "@/lib/server/with-route.ts";
import { getDatasetsContext } from "./datasets-env.ts";
import { receiveUpload } from "./receive-upload.ts";

export interface UploadView {
  uploadId: string;
  fileName: string;
  bytes: number;
  preview: SourcePreview;
}

/**
 * POST /api/datasets/uploads: the raw body streams to a temp blob; then its first rows are
 * previewed (format, columns, detected shape) for the mapping editor. A file the engine cannot
 * read at all is refused here (422, naming file and line) and removed; the import job removes
 * the temp blob once it has run, and the worker's sweeper removes one never imported. The
 * DatasetUpload row is written before the first byte, so no upload blob is ever unrecorded.
 */
export async function createUpload(
  actor: Actor,
  req: Request,
  fileNameParam: string | undefined,
): Promise<UploadView> {
  const { env, store } = getDatasetsContext();
  const { db } = getContext();
  const fileName = sanitizeFileName(fileNameParam ?? req.headers.get("x-file-name"));
  const uploadId = `up_${randomBytes(8).toString("hex")}`;
  const key = uploadKey(actor.workspaceId, uploadId);
  await recordUpload(db, {
    id: uploadId,
    workspaceId: actor.workspaceId,
    fileName,
    ...(actor.userId ? { createdById: actor.userId } : {}),
  });
  let view: UploadView;
  try {
    const { bytes } = await receiveUpload({
      body: req.body,
      contentLength: req.headers.get("content-length"),
      store,
      key,
      maxBytes: env.DATASET_UPLOAD_MAX_BYTES,
    });
    const local = store.localPath(key);
    const preview = await previewSource(
      local ? { path: local, fileName } : { stream: await store.get(key), fileName },
      { rows: 20 },
    );
    view = { uploadId, fileName, bytes, preview };
  } catch (e) {
    await discardUpload(db, store, uploadId).catch(() => {});
    if (e instanceof DatasetError) throw new AppError("unprocessable", e.message);
    throw e;
  }
  if (!(await markUploadReceived(db, uploadId, view.bytes))) {
    await store.delete(key).catch(() => {});
    throw new AppError("conflict", "the upload took longer than uploads are kept; upload the file again");
  }
  return view;
}
