import { describe, expect, it } from "vitest";
import type { MetricSeries } from "./metric-series.ts";
import { compareChartsFor, runChartLines, runChartsFor } from "./run-charts.ts";

const sft: MetricSeries = { loss: [[1, 2]], learning_rate: [[1, 1e-4]] };
const logit: MetricSeries = {
  ...sft,
  kd_loss: [[1, 0.5]],
  ce_loss: [[1, 2.1]],
  top1_agreement: [[1, 0.4]],
  teacher_logprob: [[1, -1.2]],
};
const onPolicy: MetricSeries = { ...logit, sampled_length: [[1, 31]] };

describe("the run page's charts", () => {
  it("an SFT run shows only the fixed charts", () => {
    expect(runChartsFor(sft).map((c) => c.id)).toEqual([
      "loss",
      "learning_rate",
      "grad_norm",
      "tokens_per_second",
    ]);
  });

  it("a logit run adds KD with CE, top-1 agreement and the teacher's log-prob, not the sampled length", () => {
    const ids = runChartsFor(logit).map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(["distill_loss", "top1_agreement", "teacher_logprob"]));
    expect(ids).not.toContain("sampled_length");
    const kd = runChartsFor(logit).find((c) => c.id === "distill_loss");
    expect(runChartLines(kd as never, logit).map((l) => l.key)).toEqual(["kd_loss", "ce_loss"]);
  });

  it("an on-policy run adds the sampled length", () => {
    expect(runChartsFor(onPolicy).map((c) => c.id)).toContain("sampled_length");
  });

  it("a chart appears as soon as one of its series has a point", () => {
    expect(runChartsFor({ ce_loss: [[3, 1]] }).map((c) => c.id)).toContain("distill_loss");
    expect(runChartsFor({ kd_loss: [] }).map((c) => c.id)).not.toContain("distill_loss");
  });
});

describe("the compare view's overlays", () => {
  it("SFT vs logit vs on-policy: each distillation metric drawn for the runs that have it", () => {
    const charts = compareChartsFor([{ series: sft }, { series: logit }, { series: onPolicy }]);
    const by = Object.fromEntries(charts.map((c) => [c.metric, c.runIndexes]));
    expect(by.loss).toEqual([0, 1, 2]);
    expect(by.kd_loss).toEqual([1, 2]);
    expect(by.ce_loss).toEqual([1, 2]);
    expect(by.top1_agreement).toEqual([1, 2]);
    expect(by.sampled_length).toEqual([2]);
    expect(charts.find((c) => c.metric === "kd_loss")?.yLabel).toBe("nats / token");
  });

  it("demo:kd's recorded runs: held-out accuracy overlaid for all three, KD only where it exists", () => {
    const acc = (a: number): MetricSeries => ({
      heldout_accuracy: [
        [50, a],
        [100, a + 0.1],
      ],
    });
    const charts = compareChartsFor([
      { series: { ...sft, ...acc(0.3) } },
      { series: { ...logit, ...acc(0.5) } },
      { series: { ...onPolicy, ...acc(0.4) } },
    ]);
    const by = Object.fromEntries(charts.map((c) => [c.metric, c.runIndexes]));
    expect(by.heldout_accuracy).toEqual([0, 1, 2]);
    expect(by.kd_loss).toEqual([1, 2]);
    expect(runChartsFor(acc(0.3)).map((c) => c.id)).toContain("heldout_accuracy");
  });

  it("runs without distillation get no distillation charts", () => {
    const metrics = compareChartsFor([{ series: sft }, { series: sft }]).map((c) => c.metric);
    expect(metrics).toEqual(["loss", "eval_loss", "learning_rate", "grad_norm", "tokens_per_second"]);
  });
});
