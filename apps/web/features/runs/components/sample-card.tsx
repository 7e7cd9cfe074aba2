"use client";
import type { SampleEvent } from "@distillery/core";
import { splitThink } from "../lib/split-think.ts";

/** A generation: its reasoning folded. Model output is untrusted: React renders it as text. */
export function SampleCard({ sample }: { sample: SampleEvent }) {
  const { think, answer, isThinkClosed } = splitThink(sample.output);
  return (
    <div className="sample" data-testid="sample">
      <div className="muted sample-meta">
        step {sample.step} · prompt #{sample.promptIndex + 1}
      </div>
      <pre className="sample-prompt">{sample.prompt}</pre>
      {think !== null && (
        <details className="think" data-testid="sample-think">
          <summary>
            Reasoning{" "}
            <span className="muted">
              ({think.length} chars{isThinkClosed ? "" : ", not closed"})
            </span>
          </summary>
          <pre>{think}</pre>
        </details>
      )}
      <pre className="sample-answer" data-testid="sample-answer">
        {answer.trim() || <span className="muted">(no answer)</span>}
      </pre>
    </div>
  );
}

export function SamplesPanel({ samples }: { samples: SampleEvent[] }) {
  return (
    <div className="panel samples" data-testid="samples-panel">
      <h2 className="panel-title">Samples</h2>
      {samples.length === 0 ? (
        <p className="empty">No sample generations yet.</p>
      ) : (
        samples.map((s) => <SampleCard key={s.seq} sample={s} />)
      )}
    </div>
  );
}
