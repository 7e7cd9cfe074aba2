import { describe, expect, it } from "vitest";
import { formatNumber, niceTicks } from "./chart-ticks.ts";

describe("chart ticks", () => {
  it("are round and cover the data", () => {
    expect(niceTicks(0, 800, 5, true)).toEqual([0, 200, 400, 600, 800]);
    expect(niceTicks(1, 797, 5, true)).toEqual([0, 200, 400, 600, 800]);
    expect(niceTicks(0.212, 2.87, 5)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(0.212, 2.87, 8)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3]);
    expect(niceTicks(0, 0.0008, 4)).toEqual([0, 0.0002, 0.0004, 0.0006, 0.0008]);
    expect(niceTicks(3, 3, 4)).toEqual([2.6, 2.8, 3, 3.2, 3.4]);
    expect(niceTicks(1, 3, 5, true)).toEqual([1, 2, 3]);
  });

  it("write numbers as people do", () => {
    expect(formatNumber(12500)).toBe("12.5k");
    expect(formatNumber(2_000_000)).toBe("2M");
    expect(formatNumber(0.0008)).toBe("0.0008");
    expect(formatNumber(2e-5)).toBe("0.00002");
    expect(formatNumber(3e-7)).toBe("3×10⁻⁷");
    expect(formatNumber(1e-7)).toBe("10⁻⁷");
    expect(formatNumber(0.123456)).toBe("0.1235");
    expect(formatNumber(2.5)).toBe("2.5");
    expect(formatNumber(1234)).toBe("1234");
    expect(formatNumber(-0.5)).toBe("-0.5");
    for (const v of [12500, 0.0008, 8e-4, 1.25e4]) expect(formatNumber(v)).not.toMatch(/e[+-]/);
  });
});
