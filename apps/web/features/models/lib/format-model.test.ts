import { describe, expect, it } from "vitest";
import { formatBytes, formatParameters } from "./format-model.ts";

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
