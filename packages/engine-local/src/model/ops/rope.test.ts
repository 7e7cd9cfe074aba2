import { describe, expect, it } from "vitest";
import { runTorchScript, torchMissing } from "../../torch-python.ts";
import { buildRopeTables, ropeInvFreq } from "./rope.ts";

const bits = (x: number) => new Int32Array(Float32Array.of(x).buffer)[0] as number;
const ulps = (a: number, b: number) => Math.abs(bits(a) - bits(b));

/** head dim, rope_theta and positions of the real checkpoints the engine trains, and a few more */
const CASES: [number, number, number][] = [
  [16, 10000, 64], // the case: 8 frequencies
  [64, 100000, 256], // SmolLM2-135M / 360M
  [64, 1000000, 256], // Qwen2.5-0.5B
  [128, 1000000, 256], // Qwen3-0.6B
  [128, 500000, 128], // Llama 3
  [32, 10000, 128], // the studio's tiny models
  [96, 10000, 64],
];

describe.skipIf(torchMissing !== null)("rotary tables against transformers (PyTorch float32)", () => {
  const torch = JSON.parse(runTorchScript(["rope", JSON.stringify(CASES)])) as {
    inv_freq: number[];
    power_correctly_rounded: boolean[];
    angle: number[];
    cos: number[];
    sin: number[];
  }[];

  it("inv_freq is bit-identical wherever torch's float32 power is correctly rounded, else within 1 ulp", () => {
    let compared = 0;
    for (const [c, [hd, theta]] of CASES.entries()) {
      const ours = ropeInvFreq(hd, theta);
      const t = torch[c]!;
      for (let i = 0; i < hd / 2; i++) {
        const mine = bits(ours[i] as number);
        if (t.power_correctly_rounded[i]) {
          expect(mine, `hd ${hd} θ ${theta} inv_freq[${i}]`).toBe(t.inv_freq[i]);
          compared++;
        } else expect(Math.abs(mine - (t.inv_freq[i] as number))).toBeLessThanOrEqual(1);
      }
    }
    // torch's vectorised powf misses the correctly rounded value only rarely
    expect(compared).toBeGreaterThan(0.95 * CASES.reduce((s, [hd]) => s + hd / 2, 0));
  });

  it("the issue's case (hd 16, θ 10000): all 8 frequencies and every angle are bit-identical", () => {
    const ours = ropeInvFreq(16, 10000);
    expect(Array.from(ours, bits)).toEqual(torch[0]!.inv_freq);
    const tables = buildRopeTables(64, 16, 10000);
    const angles = torch[0]!.angle;
    for (let p = 0; p < 64; p++)
      for (let i = 0; i < 8; i++) expect(bits(Math.fround(p * (ours[i] as number)))).toBe(angles[p * 8 + i]);
    // cos/sin: the correctly rounded float32 of the float32 angle; torch's CPU kernel (a 1-ulp
    // vectorised cosf) lands on it or on a neighbour
    for (let k = 0; k < 64 * 8; k++) {
      const tc = new Float32Array(Int32Array.of(torch[0]!.cos[k] as number).buffer)[0] as number;
      const ts = new Float32Array(Int32Array.of(torch[0]!.sin[k] as number).buffer)[0] as number;
      expect(ulps(tables.cos[k] as number, tc)).toBeLessThanOrEqual(1);
      expect(ulps(tables.sin[k] as number, ts)).toBeLessThanOrEqual(1);
      expect(Math.fround(tables.cos[k] as number)).toBe(tables.cos[k]);
    }
  });

  it("angles are bit-identical for every case", () => {
    for (const [c, [hd, theta, positions]] of CASES.entries()) {
      const t = torch[c]!;
      const half = hd / 2;
      // angles from torch's own inv_freq, so a 1-ulp power miss does not count twice
      for (let p = 0; p < positions; p++) {
        for (let i = 0; i < half; i++) {
          const f = new Float32Array(Int32Array.of(t.inv_freq[i] as number).buffer)[0] as number;
          expect(bits(Math.fround(p * f))).toBe(t.angle[p * half + i]);
        }
      }
      expect(ropeInvFreq(hd, theta).length).toBe(half);
    }
  });
});
