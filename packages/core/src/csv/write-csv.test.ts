import { describe, expect, it } from "vitest";
import { escapeCsvCell, toCsv } from "./write-csv.ts";

describe("CSV the studio writes", () => {
  it.each([
    ['=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'],
    ["+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"],
    ["-2+3", "'-2+3"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\t=1", "'\t=1"],
    ["-0.5", "-0.5"],
    ["plain, with comma", '"plain, with comma"'],
    ["line\nbreak", '"line\nbreak"'],
  ])("%j", (cell, out) => {
    expect(escapeCsvCell(cell)).toBe(out);
  });
  it("numbers stay numbers, rows end in CRLF", () => {
    expect(
      toCsv(
        ["step", "loss"],
        [
          [1, -0.25],
          [2, 0.125],
        ],
      ),
    ).toBe("step,loss\r\n1,-0.25\r\n2,0.125\r\n");
  });
});
