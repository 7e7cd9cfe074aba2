/**
 * Streams one chat completion from the studio's own /v1 API (SSE), calling back with each
 * delta. Model text is handed over as plain strings; the UI renders it as text.
 */
export interface StreamDelta {
  content: string;
  reasoning: string;
}

export interface StreamResult {
  completionTokens: number;
  finishReason: string | null;
  /** ms from request to first token, and from first to last token */
  ttftMs: number;
  decodeMs: number;
}

export async function streamChat(
  body: Record<string, unknown>,
  signal: AbortSignal,
  onDelta: (d: StreamDelta) => void,
): Promise<StreamResult> {
  const started = performance.now();
  const res = await fetch("/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    signal,
  });
  if (!res.ok || !res.body) {
    const err = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    throw new Error(err.error?.message ?? `request failed (${res.status})`);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let first = 0;
  let last = 0;
  let chunks = 0;
  const result: StreamResult = { completionTokens: 0, finishReason: null, ttftMs: 0, decodeMs: 0 };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let at = buffer.indexOf("\n\n");
    while (at !== -1) {
      const event = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      at = buffer.indexOf("\n\n");
      const data = event
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart())
        .join("\n");
      if (!data || data === "[DONE]") continue;
      const chunk = JSON.parse(data) as {
        error?: { message: string };
        usage?: { completion_tokens: number };
        choices?: {
          delta?: { content?: string; reasoning_content?: string };
          finish_reason?: string | null;
        }[];
      };
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.usage) result.completionTokens = chunk.usage.completion_tokens;
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const content = choice.delta?.content ?? "";
      const reasoning = choice.delta?.reasoning_content ?? "";
      if (content || reasoning) {
        const now = performance.now();
        if (!first) first = now;
        last = now;
        chunks++;
        onDelta({ content, reasoning });
      }
      if (choice.finish_reason) result.finishReason = choice.finish_reason;
    }
  }
  if (!result.completionTokens) result.completionTokens = chunks;
  result.ttftMs = first ? first - started : 0;
  result.decodeMs = first ? last - first : 0;
  return result;
}
