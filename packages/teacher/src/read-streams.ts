import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { OllamaChatBody, OpenAiCompletionBody } from "./normalize-completion.ts";
import { learnStreamFrame, parseFramedDelta, type StreamFrame } from "./stream-frame.ts";
import { TeacherError } from "./teacher-error.ts";

interface Accumulated {
  content: string;
  reasoning_content: string;
  reasoning: string;
  thinking: string;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/**
 * Reads an OpenAI-compatible SSE stream (`data: {chunk}` … `data: [DONE]`) into the body a
 * non-streamed request returns, so one normaliser reads both. A stream that ends without
 * `[DONE]` or a finish reason was dropped; a chunk that is not JSON is malformed.
 */
export async function readOpenAiStream(
  body: AsyncIterable<Uint8Array>,
  name: string,
  onChunk: () => void,
): Promise<OpenAiCompletionBody> {
  const acc: Accumulated = { content: "", reasoning_content: "", reasoning: "", thinking: "" };
  let finishReason: string | null = null;
  let usage: OpenAiCompletionBody["usage"] = null;
  let sawChoice = false;
  let isDone = false;
  // the callback parser on decoded text, not a chain of TransformStreams: far fewer promises
  // per chunk, which is the loop's cost at hundreds of events a request
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => pending.push(e) });
  const decoder = new TextDecoder();
  let frame: StreamFrame | null = null;
  const addDelta = (d: Record<string, unknown>) => {
    sawChoice = true;
    acc.content += str(d.content);
    acc.reasoning_content += str(d.reasoning_content);
    acc.reasoning += str(d.reasoning);
    acc.thinking += str(d.thinking);
  };
  const handle = (event: EventSourceMessage) => {
    // read on to the end after [DONE], so the connection goes back to the pool
    if (isDone) return;
    if (event.data === "[DONE]") {
      isDone = true;
      return;
    }
    // the usual chunk: the frame of the one before it, a new delta (parsed alone)
    const framed = frame ? parseFramedDelta(event.data, frame) : undefined;
    if (framed) {
      addDelta(framed);
      return;
    }
    let chunk: {
      choices?: { delta?: Record<string, unknown>; finish_reason?: string | null }[];
      usage?: OpenAiCompletionBody["usage"];
      error?: { message?: string };
    };
    try {
      chunk = JSON.parse(event.data);
    } catch {
      throw new TeacherError("malformed", `teacher "${name}" sent a stream chunk that is not JSON`);
    }
    if (chunk.error) throw new TeacherError("server", `teacher "${name}" reported an error mid-stream`);
    // a frame is learnt from a chunk with one choice, no finish reason and no usage
    const only = chunk.choices?.length === 1 ? chunk.choices[0] : undefined;
    frame =
      only?.delta && !only.finish_reason && !chunk.usage && typeof only.delta === "object"
        ? learnStreamFrame(event.data)
        : null;
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      addDelta(choice.delta ?? {});
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  };
  for await (const bytes of body) {
    onChunk();
    parser.feed(decoder.decode(bytes, { stream: true }));
    for (const e of pending) handle(e);
    pending.length = 0;
  }
  parser.feed(decoder.decode());
  for (const e of pending) handle(e);
  if (!isDone && finishReason === null) {
    throw new TeacherError("dropped", `teacher "${name}" closed the stream before the answer ended`);
  }
  if (!sawChoice) return { choices: [], usage };
  return { choices: [{ message: { ...acc }, finish_reason: finishReason }], usage };
}

/**
 * Reads ollama's NDJSON stream (`{"message":{"content","thinking"},"done":false}` lines, then a
 * `done: true` line with the counts) into one /api/chat body.
 */
export async function readOllamaStream(
  body: AsyncIterable<Uint8Array>,
  name: string,
  onChunk: () => void,
): Promise<OllamaChatBody> {
  const acc: Accumulated = { content: "", reasoning_content: "", reasoning: "", thinking: "" };
  let last: OllamaChatBody | null = null;
  let buffered = "";
  const handle = (line: string) => {
    if (line.trim() === "") return;
    let obj: OllamaChatBody & { error?: string };
    try {
      obj = JSON.parse(line);
    } catch {
      throw new TeacherError("malformed", `teacher "${name}" sent a stream line that is not JSON`);
    }
    if (obj.error) throw new TeacherError("server", `teacher "${name}" reported an error mid-stream`);
    acc.content += str(obj.message?.content);
    acc.thinking += str(obj.message?.thinking);
    if (obj.done) last = obj;
  };
  const decoder = new TextDecoder();
  for await (const bytes of body) {
    onChunk();
    buffered += decoder.decode(bytes, { stream: true });
    let nl = buffered.indexOf("\n");
    while (nl !== -1) {
      handle(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf("\n");
    }
  }
  handle(buffered + decoder.decode());
  const done = last as OllamaChatBody | null;
  if (!done) throw new TeacherError("dropped", `teacher "${name}" closed the stream before the answer ended`);
  return {
    ...done,
    message: { content: acc.content, thinking: acc.thinking },
  };
}
