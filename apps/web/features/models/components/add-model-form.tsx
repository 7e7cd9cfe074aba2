"use client";
import { useState } from "react";
import { TextField } from "../../runs/components/form-fields.tsx";
import { useAddModel, useUploadModelFolder } from "../hooks/use-models.ts";
import { formatBytes } from "../lib/format-model.ts";
import { checkModelUploadPath } from "../lib/model-requests.ts";

type Tab = "hub" | "upload" | "path";
const TABS: { id: Tab; label: string }[] = [
  { id: "hub", label: "From the Hub" },
  { id: "upload", label: "Upload a folder" },
  { id: "path", label: "A path on a worker" },
];

/** The three ways a model comes in; each ends as a job on the models queue (see the list below). */
export function AddModelForm() {
  const [tab, setTab] = useState<Tab>("hub");
  return (
    <section className="panel" aria-labelledby="add-model">
      <h2 id="add-model" className="panel-title">
        Add a model
      </h2>
      <div className="row tabs" role="tablist">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      {tab === "hub" && <HubForm />}
      {tab === "upload" && <UploadForm />}
      {tab === "path" && <PathForm />}
    </section>
  );
}

function HubForm() {
  const add = useAddModel();
  const [repoId, setRepoId] = useState("");
  const [revision, setRevision] = useState("main");
  const [token, setToken] = useState("");
  const [name, setName] = useState("");
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate(
          {
            source: { kind: "hub", repoId, revision, ...(token ? { token } : {}) },
            ...(name ? { name } : {}),
          },
          { onSuccess: () => setToken("") },
        );
      }}
    >
      <div className="form-grid model-form">
        <TextField
          label="Hub model id"
          value={repoId}
          onChange={setRepoId}
          placeholder="HuggingFaceTB/SmolLM2-135M-Instruct"
          error={
            add.error?.message && /repoId/.test(JSON.stringify((add.error as { errors?: unknown }).errors))
              ? add.error.message
              : undefined
          }
        />
        <TextField label="Revision" value={revision} onChange={setRevision} hint="branch, tag or commit" />
        <TextField label="Name in the studio" value={name} onChange={setName} placeholder="the Hub id" />
        <TextField
          label="Access token (gated models)"
          value={token}
          onChange={setToken}
          placeholder="hf_…"
          hint="sent to the worker only; never stored"
        />
      </div>
      <p className="muted small">
        Takes safetensors weights, config and tokenizer files; each file resumes where it stopped and is
        checked against the Hub's checksum.
      </p>
      <div className="row">
        <button type="submit" disabled={add.isPending || repoId.trim() === ""}>
          {add.isPending ? "Starting…" : "Download"}
        </button>
        {add.error && <span className="error">{add.error.message}</span>}
        {add.isSuccess && <span className="muted">started: progress below</span>}
      </div>
    </form>
  );
}

function UploadForm() {
  const upload = useUploadModelFolder();
  const [files, setFiles] = useState<{ path: string; file: File }[]>([]);
  const [problems, setProblems] = useState<string[]>([]);
  const [name, setName] = useState("");
  const [sent, setSent] = useState<{ done: number; total: number } | null>(null);
  const pick = (list: FileList | null) => {
    const picked = [...(list ?? [])].map((file) => {
      // a folder pick gives "folder/sub/file"; the folder's own name is not part of the model
      const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
      const parts = rel.split("/");
      return {
        path: parts.length > 1 ? parts.slice(1).join("/") : rel,
        file,
        folder: parts.length > 1 ? parts[0] : "",
      };
    });
    const kept = picked.filter((f) => !f.path.startsWith(".") && !f.path.includes("/."));
    const bad = kept.map((f) => checkModelUploadPath(f.path)).filter((p): p is string => p !== null);
    setProblems(bad);
    setFiles(kept.filter((f) => checkModelUploadPath(f.path) === null));
    if (!name && picked[0]?.folder) setName(picked[0].folder);
  };
  const total = files.reduce((s, f) => s + f.file.size, 0);
  const hasConfig = files.some((f) => f.path === "config.json");
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        setSent({ done: 0, total });
        upload.mutate({ name, files, onProgress: (done, t) => setSent({ done, total: t }) });
      }}
    >
      <div className="form-grid model-form">
        <div className="field">
          <label htmlFor="model-folder">Model folder</label>
          <input
            id="model-folder"
            type="file"
            multiple
            // a folder picker in Chromium, Firefox and Safari
            {...({ webkitdirectory: "", directory: "" } as object)}
            onChange={(e) => pick(e.target.files)}
          />
          <span className="muted hint">
            config.json, *.safetensors shards, tokenizer.json and tokenizer_config.json
          </span>
        </div>
        <div className="field">
          <label htmlFor="model-files">…or its files</label>
          <input id="model-files" type="file" multiple onChange={(e) => pick(e.target.files)} />
        </div>
        <TextField label="Name in the studio" value={name} onChange={setName} />
      </div>
      {files.length > 0 && (
        <p className="muted small" data-testid="upload-files">
          {files.length} files · {formatBytes(total)}: {files.map((f) => f.path).join(", ")}
        </p>
      )}
      {problems.length > 0 && (
        <ul className="error">
          {problems.map((p) => (
            <li key={p}>skipped {p}</li>
          ))}
        </ul>
      )}
      {files.length > 0 && !hasConfig && (
        <p className="error">config.json is missing: pick the model's folder</p>
      )}
      <div className="row">
        <button type="submit" disabled={upload.isPending || !hasConfig || name.trim() === ""}>
          {upload.isPending ? "Uploading…" : "Upload"}
        </button>
        {sent && upload.isPending && (
          <span className="muted">
            {formatBytes(sent.done)} of {formatBytes(sent.total)}
          </span>
        )}
        {upload.error && <span className="error">{upload.error.message}</span>}
        {upload.isSuccess && <span className="muted">uploaded: a worker is reading it (below)</span>}
      </div>
    </form>
  );
}

function PathForm() {
  const add = useAddModel();
  const [path, setPath] = useState("");
  const [name, setName] = useState("");
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate({ source: { kind: "path", path }, ...(name ? { name } : {}) });
      }}
    >
      <div className="form-grid model-form">
        <TextField
          label="Folder on the worker"
          value={path}
          onChange={setPath}
          placeholder="/models/Qwen2.5-0.5B-Instruct"
        />
        <TextField
          label="Name in the studio"
          value={name}
          onChange={setName}
          placeholder="the folder's name"
        />
      </div>
      <p className="muted small">
        Registered in place, nothing copied: runs read the folder there, so it must be on every worker that
        trains it (a shared mount), or runs can land on a worker that lacks it.
      </p>
      <div className="row">
        <button type="submit" disabled={add.isPending || path.trim() === ""}>
          Register
        </button>
        {add.error && <span className="error">{add.error.message}</span>}
      </div>
    </form>
  );
}
