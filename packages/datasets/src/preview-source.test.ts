import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILTIN_TEMPLATES, type CanonicalExample, ZEngineExample } from "@distillery/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { previewSource } from "./preview-source.ts";
import { writeEngineJsonl } from "./write-engine-jsonl.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "preview-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("previewSource", () => {
  it("reads only the first rows and detects the shape", async () => {
    const lines = Array.from({ length: 100 }, (_, i) =>
      JSON.stringify({
        messages: [
          { role: "user", content: `q${i}` },
          { role: "assistant", content: `a${i}`, reasoning_content: `r${i}` },
        ],
      }),
    );
    lines.splice(3, 0, "{oops");
    const path = join(dir, "chat.jsonl");
    await writeFile(path, lines.join("\n"));
    const preview = await previewSource({ path }, { rows: 10 });
    expect(preview.rows).toHaveLength(9);
    expect(preview.badRows).toMatchObject([{ line: 4 }]);
    expect(preview.columns).toEqual(["messages"]);
    expect(preview.detected?.shape).toBe("openai");
  });
  it("takes a stream with a hostile name", async () => {
    const stream = (async function* () {
      yield Buffer.from('instruction,output\n"a","b"\n');
    })();
    const preview = await previewSource({ stream, fileName: "../../x/evil.csv" });
    expect(preview.fileName).toBe("evil.csv");
    expect(preview.detected?.shape).toBe("alpaca");
  });
});

describe("writeEngineJsonl", () => {
  it("writes the engine's {prompt, completion} lines", async () => {
    const rows: CanonicalExample[] = [
      { messages: [{ role: "user", content: "2+2?" }], reasoning: "add", answer: "4", think: "ok" },
    ];
    const path = join(dir, "train.jsonl");
    const result = await writeEngineJsonl({
      readRows: async function* () {
        yield* rows;
      },
      template: BUILTIN_TEMPLATES.phi3,
      systemPrompt: "Be brief.",
      path,
    });
    expect(result.rows).toBe(1);
    const line = ZEngineExample.parse(JSON.parse((await readFile(path, "utf8")).trim()));
    expect(line).toEqual({
      prompt: "<|system|>\nBe brief.<|end|>\n<|user|>\n2+2?<|end|>\n<|assistant|>\n",
      completion: "<think>\nadd\n</think>\n\n4<|end|>\n<|endoftext|>",
    });
  });

  it("is bounded in time: past its deadline it stops, naming the file", async () => {
    const path = join(dir, "slow.jsonl");
    await writeFile(path, Array.from({ length: 50 }, (_, i) => JSON.stringify({ q: i, a: i })).join("\n"));
    // a deadline already past: the first row read is the last
    await expect(previewSource({ path }, { rows: 50, deadlineMs: -1 })).rejects.toMatchObject({
      code: "too_large",
      message: expect.stringMatching(/the first rows took longer than/),
      file: "slow.jsonl",
    });
  });
  it("leaves the event loop turning while it reads (others are served during a preview)", async () => {
    const path = join(dir, "big.jsonl");
    const row = JSON.stringify({ instruction: "x".repeat(2_000), output: "y".repeat(2_000) });
    await writeFile(path, Array.from({ length: 4_000 }, () => row).join("\n"));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const preview = await previewSource({ path }, { rows: 4_000 });
    clearInterval(timer);
    expect(preview.rows).toHaveLength(4_000);
    expect(ticks).toBeGreaterThan(0);
  });
});
