import { describe, expect, it } from "vitest";
import { formatSeconds, formatWatchLine } from "./commands.ts";

describe("runs watch line", () => {
  it("shows step of total, loss, lr, tokens/s and the ETA from the step rate", () => {
    expect(formatWatchLine(10, 20, { loss: 1.5, learning_rate: 0.0002, tokens_per_second: 1234 }, 0.5)).toBe(
      "step 10/20  loss 1.500  lr 0.000200  tok/s 1234  ETA 20s",
    );
  });

  it("shows — for what it does not know yet (no rate, no total, a missing metric)", () => {
    expect(formatWatchLine(3, 0, { loss: 2 }, 1)).toBe("step 3  loss 2.000  lr —  tok/s —  ETA —");
    expect(formatWatchLine(3, 10, {}, 0)).toBe("step 3/10  loss —  lr —  tok/s —  ETA —");
  });

  it("writes long ETAs in minutes and hours", () => {
    expect(formatSeconds(59.4)).toBe("59s");
    expect(formatSeconds(125)).toBe("2m05s");
    expect(formatSeconds(7260)).toBe("2h01m");
  });
});
