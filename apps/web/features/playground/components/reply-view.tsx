"use client";
import type { Reply } from "../lib/conversation.ts";

/**
 * One model's reply: the reasoning streams open and folds once the answer starts; both are
 * untrusted model text, rendered as text.
 */
export function ReplyView({ reply, isStreaming }: { reply: Reply; isStreaming: boolean }) {
  const isThinking = isStreaming && reply.content === "";
  const isWaiting = isStreaming && reply.content === "" && reply.reasoning === "";
  return (
    <div className="sample-answer" data-testid="reply">
      {isWaiting && <div className="muted">waiting for the first token (a model loads on first use)…</div>}
      {reply.reasoning && (
        <details className="think" open={isThinking} data-testid="think">
          <summary>{isThinking ? "thinking…" : `thought for ${reply.reasoning.length} chars`}</summary>
          <pre>{reply.reasoning}</pre>
        </details>
      )}
      <pre data-testid="answer">{reply.content}</pre>
      <div className="muted" style={{ fontSize: 12, marginTop: 4 }} data-testid="reply-stats">
        {reply.completionTokens} tokens · {reply.tokensPerSecond.toFixed(1)} tok/s
        {reply.finishReason ? ` · ${reply.finishReason}` : ""}
      </div>
    </div>
  );
}
