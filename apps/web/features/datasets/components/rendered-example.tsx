"use client";
import type { CanonicalExample } from "@distillery/core";
import { renderExample } from "../lib/render-example.ts";

/** A row as the engine sees it, special tokens marked. Text nodes only: dataset text is untrusted. */
export function RenderedExample({ example, templateId }: { example: CanonicalExample; templateId: string }) {
  const rendered = renderExample(example, templateId);
  if ("error" in rendered) return <p className="error">{rendered.error}</p>;
  let at = 0;
  return (
    <pre className="rendered" data-testid="rendered-example">
      {rendered.spans.map((s, i) => {
        const isCompletion = at >= rendered.promptLength;
        at += s.text.length;
        const className = `${s.isSpecial ? "special-token" : ""} ${isCompletion ? "completion" : ""}`.trim();
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: spans have no identity but their order
          <span key={i} className={className || undefined}>
            {s.text}
          </span>
        );
      })}
    </pre>
  );
}
