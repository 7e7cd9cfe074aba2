import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { OllamaChatBody, OpenAiCompletionBody } from "./normalize-completion.ts";
import {
  learnStreamFrame,
  parseDeltaText,
  parseFramedDelta,
  plainDeltaIn,
  type StreamFrame,
} from "./stream-frame.ts";
import { TeacherError } from "./teacher-error.ts";

interface Accumulated {
  content: string;
  reasoning_content: string;
  reasoning: string;
  thinking: string;
}

/** A delta's texts as parts, joined once at the end (no string grown token by token). */
class DeltaParts {
  content: string[] = [];
  reasoning_content: string[] = [];
  reasoning: string[] = [];
  thinking: string[] = [];
  add(d: Record<string, unknown>) {
    const { content, reasoning_content, reasoning, thinking } = d;
    if (typeof content === "string" && content !== "") this.content.push(content);
    if (typeof reasoning_content === "string" && reasoning_content !== "")
      this.reasoning_content.push(reasoning_content);
    if (typeof reasoning === "string" && reasoning !== "") this.reasoning.push(reasoning);
    if (typeof thinking === "string" && thinking !== "") this.thinking.push(thinking);
  }
  joined(): Accumulated {
    return {
      content: this.content.join(""),
      reasoning_content: this.reasoning_content.join(""),
      reasoning: this.reasoning.join(""),
      thinking: this.thinking.join(""),
    };
  }
}

/**
 * Reads an OpenAI-compatible SSE stream (`data: {chunk}` … `data: [DONE]`) into the body a
 * non-streamed request returns, so one normaliser reads both. A stream that ends without
 * `[DONE]` or a finish reason was dropped; a chunk that is not JSON is malformed.
 *
 * Read per network chunk, in place: the usual event is one line `data: <frame prefix><delta>
 * <frame suffix>` and a blank line, and only its delta is parsed, found by position in the
 * decoded chunk (no event objects, no line copies). Every other event (the first, a finish
 * reason, usage, [DONE], comments, multi-line data) goes whole through eventsource-parser, and a
 * stream with a carriage return goes through it entirely: the parser only ever gets whole
 * events, so either way reads the same.
 */
export async function readOpenAiStream(
  body: AsyncIterable<Uint8Array>,
  name: string,
  onChunk: () => void,
): Promise<OpenAiCompletionBody> {
  const acc = new DeltaParts();
  let finishReason: string | null = null;
  let usage: OpenAiCompletionBody["usage"] = null;
  let sawChoice = false;
  let isDone = false;
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => pending.push(e) });
  const decoder = new TextDecoder();
  let frame: StreamFrame | null = null;
  /** `data: ` and the frame's prefix, and its suffix, as latin1 (one char a UTF-8 byte) */
  let lineBytes = "";
  let suffixBytes = "";
  const handle = (data: string) => {
    // read on to the end after [DONE], so the connection goes back to the pool
    if (isDone) return;
    if (data === "[DONE]") {
      isDone = true;
      return;
    }
    // the usual chunk: the frame of the one before it, a new delta (parsed alone)
    const framed = frame ? parseFramedDelta(data, frame) : undefined;
    if (framed) {
      sawChoice = true;
      acc.add(framed);
      return;
    }
    let chunk: {
      choices?: { delta?: Record<string, unknown>; finish_reason?: string | null }[];
      usage?: OpenAiCompletionBody["usage"];
      error?: { message?: string };
    };
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new TeacherError("malformed", `teacher "${name}" sent a stream chunk that is not JSON`);
    }
    if (chunk.error) throw new TeacherError("server", `teacher "${name}" reported an error mid-stream`);
    // a frame is learnt from a chunk with one choice, no finish reason and no usage
    const only = chunk.choices?.length === 1 ? chunk.choices[0] : undefined;
    frame =
      only?.delta && !only.finish_reason && !chunk.usage && typeof only.delta === "object"
        ? learnStreamFrame(data)
        : null;
    lineBytes = frame ? Buffer.from(`data: ${frame.prefix}`, "utf8").toString("latin1") : "";
    suffixBytes = frame ? Buffer.from(frame.suffix, "utf8").toString("latin1") : "";
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      sawChoice = true;
      acc.add(choice.delta ?? {});
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  };
  const feedParser = (text: string) => {
    parser.feed(text);
    for (const e of pending) handle(e.data);
    pending.length = 0;
  };
  /** bytes after the last whole event (an event cut by the chunk's end) */
  let rest: Buffer | null = null;
  /** a carriage return was seen: every byte goes through the parser from there on */
  let isParserOnly = false;
  let isStart = true;
  /**
   * Reads the whole events in `buf` where they lie: its bytes as a latin1 string (one char a
   * byte, next to free) to find lines and compare the frame, UTF-8 decoded only where text is
   * kept (a delta's value, an event for the parser). A line break byte is never inside a UTF-8
   * sequence, so lines split the same either way.
   */
  const take = (chunk: Buffer, isEnd: boolean) => {
    let buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    rest = null;
    if (isStart) {
      // a byte order mark opens the stream at most (TextDecoder drops it too)
      if (buf.length < 3 && !isEnd) {
        rest = buf;
        return;
      }
      isStart = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    if (!isParserOnly && buf.indexOf(13) !== -1) {
      // the parser holds no partial event (it was only ever fed whole ones): it takes over here
      isParserOnly = true;
    }
    if (isParserOnly) {
      feedParser(decoder.decode(buf, { stream: !isEnd }));
      return;
    }
    const text = buf.toString("latin1");
    const decode = (from: number, to: number) => buf.toString("utf8", from, to);
    let i = 0;
    for (;;) {
      const nl = text.indexOf("\n", i);
      if (nl === -1) break;
      if (text.charCodeAt(nl + 1) === 10 /* a one-line event */) {
        // in the frame: a plain text delta read as written, else its delta parsed alone
        let isRead = false;
        if (
          frame &&
          !isDone &&
          text.startsWith(lineBytes, i) &&
          text.startsWith(suffixBytes, nl - suffixBytes.length)
        ) {
          const from = i + lineBytes.length;
          const to = nl - suffixBytes.length;
          const plain = plainDeltaIn(text, from, to, decode);
          if (plain) {
            if (plain[1] !== "") acc[plain[0]].push(plain[1]);
            isRead = true;
          } else if (to > from) {
            const delta = parseDeltaText(decode(from, to));
            if (delta) {
              acc.add(delta);
              isRead = true;
            }
          }
          if (isRead) sawChoice = true;
        }
        if (!isRead) feedParser(decode(i, nl + 2));
        i = nl + 2;
        continue;
      }
      if (nl + 1 >= text.length) break;
      // an event of several lines (or a lone line break): up to its blank line, through the parser
      const blank = text.indexOf("\n\n", nl + 1);
      if (blank === -1) break;
      feedParser(decode(i, blank + 2));
      i = blank + 2;
    }
    // an event never ended by a blank line is not an event (as the parser reads it)
    if (i < buf.length && !isEnd) rest = buf.subarray(i);
  };
  for await (const bytes of body) {
    onChunk();
    take(
      Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      false,
    );
  }
  take(Buffer.alloc(0), true);
  if (!isDone && finishReason === null) {
    throw new TeacherError("dropped", `teacher "${name}" closed the stream before the answer ended`);
  }
  if (!sawChoice) return { choices: [], usage };
  return { choices: [{ message: acc.joined(), finish_reason: finishReason }], usage };
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
  const acc = new DeltaParts();
  let last: OllamaChatBody | null = null;
  const handle = (line: string) => {
    if (line.trim() === "") return;
    let obj: OllamaChatBody & { error?: string };
    try {
      obj = JSON.parse(line);
    } catch {
      throw new TeacherError("malformed", `teacher "${name}" sent a stream line that is not JSON`);
    }
    if (obj.error) throw new TeacherError("server", `teacher "${name}" reported an error mid-stream`);
    acc.add({ content: obj.message?.content, thinking: obj.message?.thinking });
    if (obj.done) last = obj;
  };
  const decoder = new TextDecoder();
  /** decoded text after the last whole line */
  let rest = "";
  for await (const bytes of body) {
    onChunk();
    const text = rest + decoder.decode(bytes, { stream: true });
    let i = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", i)) {
      handle(text.slice(i, nl));
      i = nl + 1;
    }
    rest = text.slice(i);
  }
  handle(rest + decoder.decode());
  const done = last as OllamaChatBody | null;
  if (!done) throw new TeacherError("dropped", `teacher "${name}" closed the stream before the answer ended`);
  const { content, thinking } = acc.joined();
  return { ...done, message: { content, thinking } };
}
