import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTinyModel } from "@distillery/engine-local";
import { loadTokenizer } from "@distillery/engine-local/tokenizer";
import { describe, expect, it } from "vitest";
import { createIncrementalDecoder } from "./incremental-decoder.ts";
import { createReasoningSplitter } from "./reasoning-splitter.ts";
import { createStopMatcher } from "./stop-matcher.ts";

const pushAll = <T>(pieces: string[], push: (s: string) => T) => pieces.map(push);

describe("stop strings over streamed text", () => {
  it("holds back a possible stop prefix and cuts at the stop string, which is never emitted", () => {
    const m = createStopMatcher(["\n\nUser:", "###"]);
    const out = pushAll(["Hello", " wor", "ld\n", "\nUs", "er: more"], (s) => m.push(s));
    expect(out.map((o) => o.emit).join("")).toBe("Hello world");
    expect(out.at(-1)?.stopped).toBe(true);
  });
  it("releases held text when it turns out not to be a stop", () => {
    const m = createStopMatcher(["###"]);
    expect(m.push("a#").emit).toBe("a");
    expect(m.push("#b").emit).toBe("##b");
    expect(m.push("c#").emit).toBe("c");
    expect(m.flush()).toBe("#");
  });
});

describe("reasoning split (as vLLM's R1 parser)", () => {
  const run = (pieces: string[], startsInside = false) => {
    const s = createReasoningSplitter({ startsInside });
    const deltas = [...pieces.map((p) => s.push(p)), s.flush()];
    return {
      reasoning: deltas.map((d) => d.reasoning).join(""),
      content: deltas.map((d) => d.content).join(""),
    };
  };
  it("splits a think block whose tags arrive in pieces", () => {
    expect(run(["<th", "ink>\n7+5", "=12</thi", "nk>\n\n\\boxed{12}"])).toEqual({
      reasoning: "\n7+5=12",
      content: "\n\n\\boxed{12}",
    });
  });
  it("a response without a think block is all content; an unclosed block all reasoning", () => {
    expect(run(["The answer", " is 4"])).toEqual({ reasoning: "", content: "The answer is 4" });
    expect(run(["<think>still going"])).toEqual({ reasoning: "still going", content: "" });
  });
  it("starts inside the block when the prompt opened it", () => {
    expect(run(["a+b</think>ok"], true)).toEqual({ reasoning: "a+b", content: "ok" });
  });
});

describe("incremental decoding", () => {
  it("holds back a half multi-byte character until it is whole", () => {
    const bytes = [...new TextEncoder().encode("é!")];
    const d = createIncrementalDecoder((ids) =>
      new TextDecoder().decode(Uint8Array.from(ids.map((i) => bytes[i]!))),
    );
    expect([d.push(0), d.push(1), d.push(2)]).toEqual(["", "é", "!"]);
  });
});

describe("incremental decoding with a real BPE tokenizer", () => {
  it("the streamed pieces join to the whole decoding", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "incr-")), "tiny");
    const text =
      "What is 47 + 85? <think>\n7+5+0=12\n4+8+1=13\n</think> The answer is \\boxed{132}. Ünïcödé → ok";
    createTinyModel(dir, {
      corpus: [text, "What is 1 + 2?"],
      vocabSize: 300,
      hiddenSize: 8,
      intermediateSize: 16,
      numLayers: 1,
      numHeads: 2,
      numKvHeads: 1,
      maxPositions: 32,
    });
    const tok = loadTokenizer(dir);
    const ids = tok.encode(text, false);
    const d = createIncrementalDecoder((x) => tok.decode(x, false));
    const pieces = ids.map((id) => d.push(id));
    expect(pieces.join("") + d.flush()).toBe(tok.decode(ids, false));
  });
});
