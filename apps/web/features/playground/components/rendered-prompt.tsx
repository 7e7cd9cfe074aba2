"use client";
import { highlightSpecialTokens } from "@distillery/core";
import { useEffect, useState } from "react";
import { renderPromptRequest } from "../hooks/use-playground.ts";

/** The exact prompt a model sees, special tokens highlighted (spans of text, never HTML). */
export function RenderedPrompt({
  model,
  messages,
}: {
  model: string;
  messages: { role: string; content: string }[];
}) {
  const [state, setState] = useState<
    { prompt: string; specialTokens: string[]; template: string } | { error: string } | null
  >(null);
  const key = JSON.stringify([model, messages]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: key holds model and messages
  useEffect(() => {
    let live = true;
    renderPromptRequest(model, messages.length ? messages : [{ role: "user", content: "" }])
      .then((r) => live && setState(r))
      .catch((e: Error) => live && setState({ error: e.message }));
    return () => {
      live = false;
    };
  }, [key]);
  if (!state) return <p className="muted">Rendering…</p>;
  if ("error" in state) return <p className="error">{state.error}</p>;
  return (
    <div className="panel" data-testid="rendered-prompt">
      <div className="muted" style={{ fontSize: 12 }}>
        {state.template}
      </div>
      <pre className="mono">
        {highlightSpecialTokens(state.prompt, state.specialTokens).map((s, i) =>
          s.isSpecial ? (
            // biome-ignore lint/suspicious/noArrayIndexKey: spans have no identity but their order
            <mark key={i} style={{ background: "#34467a", color: "#e6e8ee" }}>
              {s.text}
            </mark>
          ) : (
            // biome-ignore lint/suspicious/noArrayIndexKey: as above
            <span key={i}>{s.text}</span>
          ),
        )}
      </pre>
    </div>
  );
}
