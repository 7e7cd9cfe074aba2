import { once } from "node:events";
import { createWriteStream } from "node:fs";

const WORDS =
  "the of and to in is that for it as was with be by on not this are or from at which but have an they you were there been one all we their has would when if so what no out up more about into than its some time only could new these two may then do first any my now such like other over even most made after also did many before must through back years where much your way well down should because each just those how too little good very make world still own see work long get here between both life being under never day same another know while last might great old year off come since against go came right used take three".split(
    " ",
  );
const STEPS = ["First,", "Next,", "Wait,", "Hmm,", "So", "Therefore,", "Let me check:", "Alternatively,"];

/** Deterministic PRNG so every run benchmarks the same bytes. */
export function createRng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeSentence(rnd: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(rnd() * WORDS.length)] as string);
  if (rnd() < 0.3)
    out.push(`${Math.floor(rnd() * 1000)} + ${Math.floor(rnd() * 1000)} = ${Math.floor(rnd() * 2000)}`);
  return `${out.join(" ")}.`;
}

/** One Magpie-Reasoning-shaped row with a long `<think>` trace (~4 KB on average). */
export function makeMagpieRow(rnd: () => number, index: number): string {
  const instruction = makeSentence(rnd, 10 + Math.floor(rnd() * 30));
  const steps: string[] = [];
  const n = 8 + Math.floor(rnd() * 16);
  for (let i = 0; i < n; i++)
    steps.push(
      `${STEPS[Math.floor(rnd() * STEPS.length)]} ${makeSentence(rnd, 20 + Math.floor(rnd() * 50))}`,
    );
  const answer = `${makeSentence(rnd, 20 + Math.floor(rnd() * 40))} The answer is \\boxed{${Math.floor(rnd() * 100)}}.`;
  return JSON.stringify({
    uuid: `row-${index}`,
    instruction,
    response: `<think>\n${steps.join("\n\n")}\n</think>\n\n${answer}`,
    gen_input_configs: { temperature: 1, top_p: 1 },
    intent: "The user wants to solve a problem.",
    difficulty: "medium",
  });
}

/** Streams `rows` rows to `path` without holding them; returns the bytes written. */
export async function writeMagpieJsonl(path: string, rows: number, seed = 1): Promise<number> {
  const rnd = createRng(seed);
  const out = createWriteStream(path);
  let bytes = 0;
  let buf = "";
  for (let i = 0; i < rows; i++) {
    buf += `${makeMagpieRow(rnd, i)}\n`;
    if (buf.length > 1 << 20) {
      bytes += Buffer.byteLength(buf);
      if (!out.write(buf)) await once(out, "drain");
      buf = "";
    }
  }
  bytes += Buffer.byteLength(buf);
  out.end(buf);
  await once(out, "finish");
  return bytes;
}
