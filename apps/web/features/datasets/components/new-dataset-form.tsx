"use client";
import { DATASET_SHAPE_LABELS } from "@distillery/core";
import { useState } from "react";
import type { ApiError } from "@/lib/client/api.ts";
import { useStartImport } from "../hooks/use-datasets.ts";
import type { ImportRequest } from "../lib/dataset-requests.ts";
import { uploadFile } from "../lib/upload-file.ts";
import type { UploadView } from "../server/create-upload.ts";
import { DatasetJobPanel } from "./dataset-job-panel.tsx";
import { draftFromMapping, type MappingDraft, MappingEditor, parseDraft } from "./mapping-editor.tsx";
import { TemplateSelect } from "./template-select.tsx";
import { TokenizerSelect } from "./tokenizer-select.tsx";

const baseName = (fileName: string) => fileName.replace(/(\.gz)?$/i, "").replace(/\.[^.]+$/, "") || fileName;

/** /datasets/new: upload a file (progress bar) or pick a Hub split, fix the mapping, import. */
export function NewDatasetForm() {
  const [source, setSource] = useState<"upload" | "hub">("upload");
  const [name, setName] = useState("");
  const [policy, setPolicy] = useState<"skip" | "reject">("skip");
  const [template, setTemplate] = useState("phi3");
  const [tokenizer, setTokenizer] = useState("");
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const [upload, setUpload] = useState<UploadView | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const [draft, setDraft] = useState<MappingDraft | null>(null);
  const [hub, setHub] = useState({ dataset: "", config: "", split: "train", token: "" });
  const [jobId, setJobId] = useState<string | null>(null);
  const start = useStartImport();

  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setUpload(null);
    setUploadError(null);
    setJobId(null);
    setProgress({ loaded: 0, total: file.size });
    if (!name) setName(baseName(file.name));
    try {
      const view = await uploadFile(file, (loaded, total) => setProgress({ loaded, total }));
      setUpload(view);
      setDraft(draftFromMapping(view.preview.detected?.mapping));
    } catch (e) {
      setUploadError((e as ApiError).message);
    }
  };

  const parsed = draft ? parseDraft(draft) : null;
  const common = {
    datasetName: name,
    policy,
    template,
    ...(tokenizer ? { tokenizerModelId: tokenizer } : {}),
  };
  const submit = () => {
    let body: ImportRequest;
    if (source === "upload") {
      if (!upload || !parsed || !("mapping" in parsed)) return;
      body = {
        ...common,
        source: { kind: "upload", uploadId: upload.uploadId, fileName: upload.fileName },
        mapping: parsed.mapping,
      };
    } else {
      body = {
        ...common,
        source: {
          kind: "hub",
          dataset: hub.dataset,
          split: hub.split || "train",
          ...(hub.config ? { config: hub.config } : {}),
          ...(hub.token ? { token: hub.token } : {}),
        },
      };
    }
    start.mutate(body, { onSuccess: (r) => setJobId(r.jobId) });
  };
  const startError = start.error as ApiError | null;
  const canStart =
    name.trim() !== "" &&
    !start.isPending &&
    (source === "hub" ? hub.dataset.trim() !== "" : !!parsed && "mapping" in parsed);

  return (
    <>
      <div className="panel">
        <div className="row tabs" role="tablist">
          <button
            type="button"
            role="tab"
            aria-selected={source === "upload"}
            onClick={() => setSource("upload")}
          >
            Upload a file
          </button>
          <button type="button" role="tab" aria-selected={source === "hub"} onClick={() => setSource("hub")}>
            Hugging Face Hub
          </button>
        </div>
        {source === "upload" ? (
          <div className="field">
            <label htmlFor="dataset-file">File (JSONL, JSON array, CSV, Parquet; gzip welcome)</label>
            <input id="dataset-file" type="file" onChange={(e) => void onFile(e.target.files?.[0])} />
            {progress && (
              <div className="progress-line">
                <div
                  className="progress"
                  role="progressbar"
                  aria-label="Upload progress"
                  aria-valuenow={Math.round((progress.loaded / Math.max(1, progress.total)) * 100)}
                >
                  <div
                    className="progress-fill"
                    style={{ width: `${(progress.loaded / Math.max(1, progress.total)) * 100}%` }}
                  />
                </div>
                <span className="muted" data-testid="upload-progress">
                  {upload
                    ? "uploaded"
                    : `${Math.round((progress.loaded / Math.max(1, progress.total)) * 100)}%`}
                </span>
              </div>
            )}
            {uploadError && (
              <p className="error" data-testid="upload-error">
                {uploadError}
              </p>
            )}
          </div>
        ) : (
          <div className="mapping-grid">
            <div className="field">
              <label htmlFor="hub-dataset">Dataset id</label>
              <input
                id="hub-dataset"
                placeholder="owner/name"
                value={hub.dataset}
                onChange={(e) => setHub({ ...hub, dataset: e.target.value })}
              />
            </div>
            <div className="field">
              <label htmlFor="hub-config">Config</label>
              <input
                id="hub-config"
                placeholder="default"
                value={hub.config}
                onChange={(e) => setHub({ ...hub, config: e.target.value })}
              />
            </div>
            <div className="field">
              <label htmlFor="hub-split">Split</label>
              <input
                id="hub-split"
                value={hub.split}
                onChange={(e) => setHub({ ...hub, split: e.target.value })}
              />
            </div>
            <div className="field">
              <label htmlFor="hub-token">Token (gated sets)</label>
              <input
                id="hub-token"
                type="password"
                autoComplete="off"
                value={hub.token}
                onChange={(e) => setHub({ ...hub, token: e.target.value })}
              />
            </div>
          </div>
        )}
      </div>

      {source === "upload" && upload && draft && (
        <div className="panel">
          <h2 className="panel-title">Columns</h2>
          <p className="muted" data-testid="upload-summary">
            {upload.fileName}: {upload.preview.format}
            {upload.preview.compressed ? " (gzip)" : ""}, {upload.preview.columns.length} columns; detected
            shape:{" "}
            <strong data-testid="detected-shape">
              {upload.preview.detected
                ? DATASET_SHAPE_LABELS[upload.preview.detected.shape]
                : "none (map the columns)"}
            </strong>
          </p>
          {upload.preview.badRows.length > 0 && (
            <p className="error">
              {upload.preview.badRows.length} bad rows in the first rows, e.g. line{" "}
              {upload.preview.badRows[0]?.line}: {upload.preview.badRows[0]?.reason}
            </p>
          )}
          <MappingEditor
            columns={upload.preview.columns}
            rows={upload.preview.rows}
            draft={draft}
            onChange={setDraft}
            templateId={template}
          />
        </div>
      )}

      <div className="panel">
        <div className="mapping-grid">
          <div className="field">
            <label htmlFor="dataset-name">Dataset name</label>
            <input id="dataset-name" value={name} onChange={(e) => setName(e.target.value)} />
            {startError?.fieldError("body.datasetName") && (
              <span className="error">{startError.fieldError("body.datasetName")}</span>
            )}
          </div>
          <div className="field">
            <label htmlFor="bad-rows">Bad rows</label>
            <select
              id="bad-rows"
              value={policy}
              onChange={(e) => setPolicy(e.target.value as "skip" | "reject")}
            >
              <option value="skip">Skip bad rows and report them</option>
              <option value="reject">Reject the file on the first bad row</option>
            </select>
          </div>
          <TemplateSelect value={template} onChange={setTemplate} />
          <TokenizerSelect value={tokenizer} onChange={setTokenizer} />
        </div>
        <button type="button" onClick={submit} disabled={!canStart}>
          Start import
        </button>
        {startError && <p className="error">{startError.message}</p>}
      </div>
      {jobId && <DatasetJobPanel jobId={jobId} />}
    </>
  );
}
