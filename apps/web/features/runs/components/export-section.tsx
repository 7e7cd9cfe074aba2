"use client";
import { CheckboxField, TextField } from "./form-fields.tsx";

type Bind = (path: string) => { value: unknown; onChange: (value: unknown) => void; error?: string };

/**
 * The run config's `export`: a Hub push at the end of a GPU run. No token field on purpose: the
 * config is stored and shown to everyone in the workspace, so the trainer reads HF_TOKEN from the
 * GPU worker's environment. The CPU engine cannot push (the schema refuses it), so the fields
 * are disabled there; the form clears hubRepo when the engine switches to local.
 */
export function ExportSection({ engine, bind }: { engine: string; bind: Bind }) {
  const isLocal = engine === "local";
  const hubRepo = bind("export.hubRepo");
  const hasRepo = typeof hubRepo.value === "string" && hubRepo.value !== "";
  return (
    <section className="panel" aria-labelledby="sec-export">
      <h2 id="sec-export" className="panel-title">
        Export
      </h2>
      <div className="form-grid">
        <TextField
          label="Hub repo"
          {...hubRepo}
          // an emptied field means no push, not an invalid empty id
          onChange={(v) => hubRepo.onChange(v.trim() === "" ? undefined : v.trim())}
          placeholder={isLocal ? "needs the hf engine" : "optional: owner/name"}
          disabled={isLocal}
          hint={
            isLocal
              ? "the local (CPU) engine cannot push to the Hub: pick the hf engine"
              : "pushed at the end of the run with the GPU worker's HF_TOKEN (never stored with the run): the merged model at the repo's root, the adapter under adapter/"
          }
        />
      </div>
      <div className="row">
        <CheckboxField label="Private repo" {...bind("export.private")} disabled={isLocal || !hasRepo} />
        <CheckboxField label="Push adapter" {...bind("export.pushAdapter")} disabled={isLocal || !hasRepo} />
        <CheckboxField
          label="Push merged model"
          {...bind("export.pushMerged")}
          disabled={isLocal || !hasRepo}
        />
      </div>
    </section>
  );
}
