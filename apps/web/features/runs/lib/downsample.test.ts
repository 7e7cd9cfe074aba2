import { describe, expect, it } from "vitest";
import { downsampleLttb, type Point } from "./downsample.ts";

const line = (n: number, f: (i: number) => number): Point[] =>
  Array.from({ length: n }, (_, i) => [i, f(i)] as Point);

describe("downsampleLttb", () => {
  it("returns short series unchanged", () => {
    const s = line(10, (i) => i * 2);
    expect(downsampleLttb(s, 2000)).toEqual(s);
  });

  it("keeps the threshold, the first and last points, and step order", () => {
    const s = line(100_000, (i) => Math.sin(i / 500) + 1 / (1 + i / 1000));
    const d = downsampleLttb(s, 2000);
    expect(d).toHaveLength(2000);
    expect(d[0]).toEqual(s[0]);
    expect(d[d.length - 1]).toEqual(s[s.length - 1]);
    for (let i = 1; i < d.length; i++) expect((d[i] as Point)[0]).toBeGreaterThan((d[i - 1] as Point)[0]);
  });

  it("keeps a single spike that averaging would flatten", () => {
    const s = line(50_000, (i) => (i === 31_337 ? 100 : 1));
    const d = downsampleLttb(s, 500);
    expect(d.some(([x, y]) => x === 31_337 && y === 100)).toBe(true);
  });

  it("returns only points of the input", () => {
    const s = line(5000, (i) => (i * 7919) % 101);
    const set = new Set(s.map((p) => p.join()));
    expect(downsampleLttb(s, 300).every((p) => set.has(p.join()))).toBe(true);
  });
});
