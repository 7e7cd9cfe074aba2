import { describe, expect, it } from "vitest";
import { cpuTrainingWork, formatBytes, formatParameters } from "./format-model.ts";

describe("model figures", () => {
  it("reads as people say them", () => {
    expect(formatParameters(134_515_008)).toBe("135M");
    expect(formatParameters(494_032_768)).toBe("494M");
    expect(formatParameters(1_543_714_304)).toBe("1.54B");
    expect(formatParameters(3_821_079_552)).toBe("3.82B");
    expect(formatParameters(12_600_000)).toBe("12.6M");
    expect(formatParameters(null)).toBe("—");
    expect(formatBytes(269_060_552)).toBe("269 MB");
    expect(formatBytes(512)).toBe("512 B");
  });
});

describe("CPU training work", () => {
  it("is ~4N FLOP per token and N f32 weights, as engine-local's README measures SmolLM2-135M", () => {
    const w = cpuTrainingWork(134_515_008);
    // README: a batch of 2 × 128 tokens is ~138 GFLOP of products
    expect(((w?.flopPerToken ?? 0) * 256) / 1e9).toBeCloseTo(137.7, 0);
    // README: 541 MiB of array buffers, the f32 weights most of it
    expect((w?.weightBytes ?? 0) / 2 ** 20).toBeCloseTo(513, 0);
    expect(cpuTrainingWork(null)).toBeNull();
  });
});
