"use client";
import Link from "next/link";
import { useDatasetVersion } from "../hooks/use-datasets.ts";
import { DerivePanel } from "./derive-panel.tsx";
import { describeOperation } from "./describe-operation.ts";
import { type ImportCoercion, ImportCoercions, shapeLabel } from "./import-summary.tsx";
import { RecountStats } from "./recount-stats.tsx";
import { RowBrowser } from "./row-browser.tsx";
import { TeacherLogitsPanel } from "./teacher-logits-panel.tsx";
import { VersionStats } from "./version-stats.tsx";

/**
 * The new run starts on this version and, when its tokens were counted with a model's tokenizer,
 * on that model as the student: the form's truncation figures then hold for the model it trains.
 */
function newRunHref(versionId: string, tok: { kind?: string; modelId?: string } | undefined): string {
  const params = new URLSearchParams({ datasetVersionId: versionId });
  if (tok?.kind === "model" && tok.modelId) params.set("modelId", tok.modelId);
  return `/runs/new?${params.toString()}`;
}

/** /datasets/[datasetId]/versions/[versionId]: statistics, rows, filter/split, use in a run. */
export function VersionPage({ datasetId, versionId }: { datasetId: string; versionId: string }) {
  const { data: v, error } = useDatasetVersion(datasetId, versionId);
  if (error) return <p className="error">{error.message}</p>;
  if (!v) return <p className="muted">Loading…</p>;
  const template = String(v.schema.template ?? v.stats.template ?? "phi3");
  const imported = v.stats.import as { shape?: string; coercions?: ImportCoercion[] } | undefined;
  const tok = v.stats.tokenizer as { kind?: string; modelId?: string } | undefined;
  return (
    <>
      <div className="row between">
        <h1 data-testid="version-title">
          <Link href={`/datasets/${datasetId}`}>{v.datasetName}</Link> v{v.version}
        </h1>
        <Link className="button" href={newRunHref(v.id, tok)} data-testid="use-in-run">
          Use in a new run
        </Link>
        <Link
          className="button"
          href={`/generations/new?versionId=${encodeURIComponent(v.id)}`}
          data-testid="generate-with-teacher"
        >
          Generate with a teacher
        </Link>
      </div>
      <p className="muted">
        {v.rowCount.toLocaleString()} rows · {describeOperation(v.operation)} ·{" "}
        <span className="mono">{v.id}</span>
        {imported?.shape ? (
          <>
            {" "}
            · shape <span data-testid="version-shape">{shapeLabel(imported.shape)}</span>
          </>
        ) : null}
      </p>
      <ImportCoercions coercions={imported?.coercions} />
      <h2>Statistics</h2>
      <RecountStats
        datasetId={datasetId}
        versionId={versionId}
        template={template}
        {...(tok?.kind === "model" && tok.modelId ? { currentModelId: tok.modelId } : {})}
      />
      <VersionStats stats={v.stats} />
      <h2>Rows</h2>
      <RowBrowser datasetId={datasetId} versionId={versionId} defaultTemplate={template} />
      <h2>Teacher logits</h2>
      <TeacherLogitsPanel versionId={versionId} template={template} />
      <h2>New versions</h2>
      <DerivePanel
        datasetId={datasetId}
        versionId={versionId}
        template={template}
        {...(tok?.kind === "model" && tok.modelId ? { tokenizerModelId: tok.modelId } : {})}
      />
    </>
  );
}
