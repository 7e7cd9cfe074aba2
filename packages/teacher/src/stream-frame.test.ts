import { describe, expect, it } from "vitest";
import { readOpenAiStream } from "./read-streams.ts";
import { learnStreamFrame, parseFramedDelta, plainDeltaIn } from "./stream-frame.ts";

const sse = (datas: string[]) => datas.map((d) => `data: ${d}\n\n`).join("");
async function* bytes(text: string, cut = 7) {
  const b = Buffer.from(text, "utf8");
  for (let i = 0; i < b.length; i += cut) yield b.subarray(i, i + cut);
}
/** What a full parse of every chunk reads (the reader before frames). */
function oracle(datas: string[]) {
  const acc = { content: "", reasoning_content: "", reasoning: "", thinking: "" };
  let finish: string | null = null;
  for (const d of datas) {
    if (d === "[DONE]") break;
    const c = JSON.parse(d);
    for (const ch of c.choices ?? []) {
      for (const k of Object.keys(acc) as (keyof typeof acc)[])
        if (typeof ch.delta?.[k] === "string") acc[k] += ch.delta[k];
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  return { acc, finish };
}

const vllm = (delta: unknown, finish: string | null = null) =>
  JSON.stringify({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1,
    model: "r1",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });

describe("stream frames", () => {
  it("learns the text around the one delta, outside strings", () => {
    const d = vllm({ reasoning_content: 'a "delta": {x}' });
    const f = learnStreamFrame(d);
    expect(f?.prefix.endsWith('"delta":')).toBe(true);
    expect(f?.suffix).toBe(',"logprobs":null,"finish_reason":null}]}');
    expect(parseFramedDelta(vllm({ content: "b}" }), f ?? { prefix: "", suffix: "" })).toEqual({
      content: "b}",
    });
    // not the frame: another finish reason, another id, a value that is not an object
    if (!f) throw new Error("no frame");
    expect(parseFramedDelta(vllm({ content: "c" }, "stop"), f)).toBeUndefined();
    expect(parseFramedDelta(vllm({ content: "c" }).replace("chatcmpl-1", "chatcmpl-2"), f)).toBeUndefined();
    expect(parseFramedDelta(`${f.prefix}[1]${f.suffix}`, f)).toBeUndefined();
    expect(parseFramedDelta(`${f.prefix}{"a":1}],"x":[{"b":{}${f.suffix}`, f)).toBeUndefined();
    // two delta keys, or none: no frame
    expect(learnStreamFrame('{"choices":[{"delta":{},"delta":{}}]}')).toBeNull();
    expect(learnStreamFrame('{"choices":[{"text":"\\"delta\\": {}"}]}')).toBeNull();
  });

  it("a stream reads the same as a full parse of every chunk, whatever the frames", async () => {
    const deltas = [
      { role: "assistant", content: "" },
      { reasoning_content: "We add" },
      { reasoning_content: ' "quoted" \\ back\\slash {brace} [x] é 😀' },
      { reasoning_content: '"delta":{}' },
      { reasoning_content: "\n", content: null },
      { content: "The answer is \\boxed{3}." },
      { reasoning: "r" },
      {},
    ];
    const datas: string[] = [];
    for (let i = 0; i < 60; i++) {
      const delta = deltas[i % deltas.length];
      // the frame changes now and then (OpenAI's per-chunk obfuscation, a new id), spacing too
      if (i % 11 === 5) datas.push(JSON.stringify({ ...JSON.parse(vllm(delta)), obfuscation: `x${i}` }));
      else if (i % 13 === 7) datas.push(vllm(delta).replace("chatcmpl-1", `chatcmpl-${i}`));
      else if (i % 17 === 3) datas.push(JSON.stringify(JSON.parse(vllm(delta)), null, 1).replace(/\n/g, " "));
      else datas.push(vllm(delta));
    }
    datas.push(vllm({}, "stop"));
    datas.push(
      JSON.stringify({ id: "chatcmpl-1", choices: [], usage: { prompt_tokens: 3, completion_tokens: 9 } }),
    );
    datas.push("[DONE]");
    const want = oracle(datas);
    const body = await readOpenAiStream(bytes(sse(datas)), "t", () => {});
    expect(body.choices?.[0]?.message).toEqual(want.acc);
    expect(body.choices?.[0]?.finish_reason).toBe("stop");
    expect(body.usage).toEqual({ prompt_tokens: 3, completion_tokens: 9 });
  });

  it("a malformed chunk in a learnt frame is still malformed", async () => {
    const f = learnStreamFrame(vllm({ content: "a" }));
    if (!f) throw new Error("no frame");
    const datas = [
      vllm({ content: "a" }),
      `${f.prefix}{"content": "b"${f.suffix}`,
      vllm({}, "stop"),
      "[DONE]",
    ];
    await expect(readOpenAiStream(bytes(sse(datas)), "t", () => {})).rejects.toMatchObject({
      kind: "malformed",
    });
  });
  it("reads every SSE spelling as the parser does: CRLF, several data lines, comments, no space, any cut", async () => {
    const datas = [
      vllm({ role: "assistant", content: "" }),
      vllm({ reasoning_content: "one " }),
      vllm({ reasoning_content: "two " }),
      vllm({ content: "x" }),
      vllm({ content: "y" }, "stop"),
      "[DONE]",
    ];
    const want = oracle(datas).acc;
    const lf = sse(datas);
    const spellings = [
      lf,
      lf.replace(/\n/g, "\r\n"),
      // CRLF from the middle on (the per-chunk reading hands over to the parser there)
      lf.slice(0, lf.length / 2) + lf.slice(lf.length / 2).replace(/\n/g, "\r\n"),
      `: keep-alive\n\n${lf.replace(/data: /g, "data:")}`,
      `\n\n${lf.replace(/\n\n/g, "\nid: 7\n\n")}`,
      // a framed chunk's JSON split over two data lines (joined with a line break, still JSON)
      lf.replace(`data: ${datas[2]}`, `data: ${datas[2]?.replace(',"choices":', ',\ndata: "choices":')}`),
    ];
    for (const text of spellings)
      for (const cut of [1, 3, 7, 64, 100_000]) {
        const body = await readOpenAiStream(bytes(text, cut), "t", () => {});
        expect(body.choices?.[0]?.message, JSON.stringify({ text: text.slice(0, 40), cut })).toEqual(want);
      }
  });

  it("a framed line followed by a stray line is the parser's event, not a framed delta", async () => {
    const f = learnStreamFrame(vllm({ content: "a" }));
    if (!f) throw new Error("no frame");
    // `data: <prefix>{"content":"b"}` then a line holding the suffix: as SSE the data lacks the
    // suffix (not JSON: malformed), though prefix … suffix spans the text
    const text = `data: ${vllm({ content: "a" })}\n\ndata: ${f.prefix}{"content":"b"}\n${f.suffix}\n\n`;
    await expect(
      readOpenAiStream(bytes(`${text}data: [DONE]\n\n`, 1000), "t", () => {}),
    ).rejects.toMatchObject({
      kind: "malformed",
    });
  });
  it("reads a plain text delta as written, and leaves every other spelling to JSON.parse", () => {
    const plain = (d: string) => plainDeltaIn(`xx${d}yy`, 2, 2 + d.length);
    for (const [d, want] of [
      ['{"reasoning_content":" the"}', ["reasoning_content", " the"]],
      ['{"content":""}', ["content", ""]],
      ['{"reasoning":"é 😀 \u2028"}', ["reasoning", "é 😀 \u2028"]],
      ['{"thinking":"{}[],:"}', ["thinking", "{}[],:"]],
    ] as const) {
      expect(plain(d)).toEqual(want);
      expect(JSON.parse(d)[want[0]]).toBe(want[1]);
    }
    for (const d of [
      '{"content":"a\\nb"}',
      '{"content":"say \\"hi\\""}',
      `{"content":"tab\there"}`,
      '{"content": "x"}',
      '{"content":"x","reasoning_content":"y"}',
      '{"role":"assistant"}',
      '{"content":null}',
      '{"content":"}',
      '{"content":"x"} ',
    ])
      expect(plain(d), d).toBeUndefined();
  });
});
