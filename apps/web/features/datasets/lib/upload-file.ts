"use client";
import { ApiError } from "@/lib/client/api.ts";
import type { UploadView } from "../server/create-upload.ts";

/**
 * Sends a file as the raw body of POST /api/datasets/uploads with XMLHttpRequest, whose upload
 * events (unlike fetch's) report progress. Problem+json errors become ApiError, as fetchJson's do.
 */
export function uploadFile(
  file: File,
  onProgress: (loaded: number, total: number) => void,
  signal?: AbortSignal,
): Promise<UploadView> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/datasets/uploads?fileName=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      const body = xhr.response as (UploadView & { code?: string; detail?: string; errors?: [] }) | null;
      if (xhr.status >= 200 && xhr.status < 300 && body) return resolve(body);
      reject(
        new ApiError(
          xhr.status,
          body?.code ?? "unknown",
          body?.detail ?? `upload failed (HTTP ${xhr.status})`,
          body?.errors ?? [],
        ),
      );
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "the upload was interrupted (network error)"));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "upload cancelled"));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(file);
  });
}
