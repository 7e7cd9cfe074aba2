import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Rng } from "../../kernels/rng.ts";
import { PYTHON, torchMissing } from "../../torch-python.ts";
import { featureLoss } from "./distill-loss-feature.ts";

/**
 * The GPU trainer's feature loss (packages/trainer-hf/python/distillery_trainer/distill_loss.py,
 * torch autograd through an nn.Linear) against this engine's (hand-written backward) on the same
 * hidden states and projection: same loss, student gradient and projection gradients.
 */
const TRAINER_PYTHON = fileURLToPath(new URL("../../../../trainer-hf/python", import.meta.url));

const PY = `
import json, sys, torch
from distillery_trainer.distill_loss import feature_loss
c = json.load(sys.stdin)
s = torch.tensor(c["student"], dtype=torch.float64).reshape(c["rows"], c["dS"]).requires_grad_(True)
t = torch.tensor(c["teacher"], dtype=torch.float64).reshape(c["rows"], c["dT"])
y = torch.tensor(c["targets"], dtype=torch.long)
proj = None
if c["weight"] is not None:
    proj = torch.nn.Linear(c["dS"], c["dT"]).double()
    with torch.no_grad():
        proj.weight.copy_(torch.tensor(c["weight"], dtype=torch.float64).reshape(c["dT"], c["dS"]))
        proj.bias.copy_(torch.tensor(c["bias"], dtype=torch.float64))
loss, count = feature_loss(s, t, y, proj)
loss.backward()
out = {"loss": float(loss), "count": count, "ds": s.grad.reshape(-1).tolist()}
if proj is not None:
    out["dw"] = proj.weight.grad.reshape(-1).tolist()
    out["db"] = proj.bias.grad.tolist()
print(json.dumps(out))
`;

const rows = 5;
const targets = [4, -100, 0, 9, 2];

function randomArray(n: number, seed: number, scale: number): number[] {
  const rng = Rng.fromSeed(seed, 0);
  return Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

function torchRun(payload: unknown) {
  const res = spawnSync(PYTHON, ["-c", PY], {
    input: JSON.stringify(payload),
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: TRAINER_PYTHON },
  });
  expect(res.stderr).toBe("");
  return JSON.parse(res.stdout) as {
    loss: number;
    count: number;
    ds: number[];
    dw?: number[];
    db?: number[];
  };
}

describe.skipIf(torchMissing !== null)("feature loss: engine-local = trainer-hf (PyTorch autograd)", () => {
  it("with a projection 6 → 4 and without one (equal widths): same loss and gradients", () => {
    for (const [dS, dT, withProj] of [
      [6, 4, true],
      [4, 4, false],
    ] as const) {
      const student = randomArray(rows * dS, 1, 2);
      const teacher = randomArray(rows * dT, 2, 3);
      const weight = withProj ? randomArray(dT * dS, 3, 0.5) : null;
      const bias = withProj ? randomArray(dT, 4, 0.5) : null;
      const theirs = torchRun({ rows, dS, dT, student, teacher, targets, weight, bias });
      const wg = new Float64Array(dT * dS);
      const bg = new Float64Array(dT);
      const ours = featureLoss(
        Float64Array.from(student),
        Float64Array.from(teacher),
        Int32Array.from(targets),
        rows,
        dS,
        dT,
        weight && bias
          ? { weight: Float64Array.from(weight), bias: Float64Array.from(bias), weightGrad: wg, biasGrad: bg }
          : null,
        1,
        true,
      );
      expect(ours.count).toBe(theirs.count);
      expect(ours.lossSum).toBeCloseTo(theirs.loss, 11);
      ours.dstudent?.forEach((g, j) => void expect(g).toBeCloseTo(theirs.ds[j] as number, 11));
      if (withProj) {
        wg.forEach((g, j) => void expect(g).toBeCloseTo(theirs.dw?.[j] as number, 11));
        bg.forEach((g, j) => void expect(g).toBeCloseTo(theirs.db?.[j] as number, 11));
      }
    }
  });
});
