import type { GenerateRequest } from "../engine/engine-backend.ts";
import type { PromptTokenScore } from "../engine/score-prompt.ts";
import type { LoadedModel } from "../pool/model-pool.ts";
import { createIncrementalDecoder } from "../text/incremental-decoder.ts";
import { createReasoningSplitter } from "../text/reasoning-splitter.ts";
import { createStopMatcher } from "../text/stop-matcher.ts";

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

export interface ChoiceDelta {
  index: number;
  /** answer text (all text when reasoning is not split) */
  content: string;
  reasoning: string;
  logprobs: TokenLogprob[];
  /** set on the last delta of the choice */
  finishReason?: "stop" | "length";
}

export interface ChoiceUsage {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
}

export interface ChoiceOptions {
  index: number;
  request: GenerateRequest;
  stop: string[];
  /** split `<think>` into reasoning; "startsInside" when the prompt opened the block */
  reasoning: "split" | "split-inside" | "none";
  withLogprobs: boolean;
  signal?: AbortSignal;
  onUsage: (u: ChoiceUsage) => void;
  /** the prompt's scores when the request asked for `promptLogprobs` */
  onPromptScores?: (scores: PromptTokenScore[]) => void;
}

const encoder = new TextEncoder();

/**
 * One choice of a completion: the model's tokens as text deltas, with stop strings applied
 * (the sequence is cancelled at once when one is hit), the reasoning split off, and each
 * token's logprobs. Model output is untrusted text; nothing here interprets it.
 */
export async function* runChoice(model: LoadedModel, o: ChoiceOptions): AsyncGenerator<ChoiceDelta> {
  const { tokenizer } = model;
  // ids past the tokenizer (an embedding padded past it) have no text
  const decodeKnown = (ids: number[]) => {
    const known = ids.filter((id) => id < tokenizer.vocabSize);
    return known.length ? tokenizer.decode(known, false) : "";
  };
  const decoder = createIncrementalDecoder(decodeKnown);
  const stops = createStopMatcher(o.stop);
  const splitter =
    o.reasoning === "none" ? null : createReasoningSplitter({ startsInside: o.reasoning === "split-inside" });
  const local = new AbortController();
  const abort = () => local.abort();
  o.signal?.addEventListener("abort", abort, { once: true });
  const tokenText = (id: number) => decodeKnown([id]);
  let reasoningTokens = 0;
  let completionTokens = 0;
  let finish: "stop" | "length" = "stop";
  const split = (text: string) => (splitter ? splitter.push(text) : { reasoning: "", content: text });
  try {
    for await (const e of model.backend.generate(o.request, local.signal)) {
      if (e.type === "done") {
        finish = e.reason === "length" ? "length" : "stop";
        break;
      }
      if (e.type === "prompt") {
        o.onPromptScores?.(e.scores);
        continue;
      }
      completionTokens++;
      const piece = decoder.push(e.token);
      const { emit, stopped } = stops.push(piece);
      const delta = split(emit);
      if (delta.reasoning && !delta.content) reasoningTokens++;
      const logprobs: TokenLogprob[] =
        o.withLogprobs && e.logprob !== undefined
          ? [
              {
                token: tokenText(e.token),
                logprob: e.logprob,
                bytes: [...encoder.encode(tokenText(e.token))],
                top_logprobs: (e.top ?? []).map(([id, lp]) => ({
                  token: tokenText(id),
                  logprob: lp,
                  bytes: [...encoder.encode(tokenText(id))],
                })),
              },
            ]
          : [];
      if (delta.content || delta.reasoning || logprobs.length)
        yield { index: o.index, content: delta.content, reasoning: delta.reasoning, logprobs };
      if (stopped) {
        finish = "stop";
        local.abort();
        break;
      }
    }
    const rest = split(stops.flush() + decoder.flush());
    const tail = splitter ? splitter.flush() : { reasoning: "", content: "" };
    yield {
      index: o.index,
      content: rest.content + tail.content,
      reasoning: rest.reasoning + tail.reasoning,
      logprobs: [],
      finishReason: finish,
    };
  } finally {
    o.signal?.removeEventListener("abort", abort);
    o.onUsage({ promptTokens: o.request.promptIds.length, completionTokens, reasoningTokens });
  }
}

/** Runs several async generators at once and yields their items as they come. */
export async function* mergeGenerators<T>(gens: AsyncGenerator<T>[]): AsyncGenerator<T> {
  const next = gens.map((g, i) => g.next().then((r) => ({ r, i })));
  const live = new Set(gens.map((_, i) => i));
  try {
    while (live.size > 0) {
      const { r, i } = await Promise.race(
        [...live].map((j) => next[j] as Promise<{ r: IteratorResult<T>; i: number }>),
      );
      if (r.done) {
        live.delete(i);
        continue;
      }
      next[i] = (gens[i] as AsyncGenerator<T>).next().then((res) => ({ r: res, i }));
      yield r.value;
    }
  } finally {
    await Promise.allSettled([...live].map((j) => (gens[j] as AsyncGenerator<T>).return(undefined)));
  }
}
