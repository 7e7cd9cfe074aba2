import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Rng } from "../../kernels/rng.ts";
import { PYTHON, torchMissing } from "../../torch-python.ts";
import { distillLoss } from "./distill-loss.ts";

/**
 * The GPU trainer's loss (packages/trainer-hf/python/distillery_trainer/distill_loss.py, torch
 * autograd) against this engine's (hand-written backward) on the same logits: the two engines
 * must train the same thing for every mode.
 */
const TRAINER_PYTHON = fileURLToPath(new URL("../../../../trainer-hf/python", import.meta.url));

const PY = `
import json, sys, torch
from distillery_trainer.distill_loss import distill_loss
case = json.load(sys.stdin)
out = []
for c in case["cases"]:
    s = torch.tensor(c["student"], dtype=torch.float64).reshape(c["rows"], c["vocab"]).requires_grad_(True)
    t = torch.tensor(c["targets"], dtype=torch.long)
    kw = dict(beta=c["beta"], temperature=c["temperature"])
    if c.get("k"):
        kw["topk_ids"] = torch.tensor(c["ids"]).reshape(c["rows"], c["k"])
        kw["topk_logprobs"] = torch.tensor(c["logprobs"], dtype=torch.float64).reshape(c["rows"], c["k"])
    else:
        kw["teacher_logits"] = torch.tensor(c["teacher"], dtype=torch.float64).reshape(c["rows"], c["vocab"])
    loss, count, agree = distill_loss(s, t, **kw)
    loss.backward()
    out.append({"loss": float(loss), "count": count, "agree": agree, "grad": s.grad.reshape(-1).tolist()})
print(json.dumps(out))
`;

const rows = 4;
const vocab = 9;
const targets = [2, -100, 5, 0];

function randomArray(n: number, seed: number, scale: number): number[] {
  const rng = Rng.fromSeed(seed, 0);
  return Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

function topK(teacher: number[], k: number) {
  const ids: number[] = [];
  const logprobs: number[] = [];
  for (let i = 0; i < rows; i++) {
    const row = teacher.slice(i * vocab, (i + 1) * vocab);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    const order = row.map((v, j) => [v, j] as const).sort((a, b) => b[0] - a[0]);
    for (let b = 0; b < k; b++) {
      ids.push(order[b]?.[1] as number);
      logprobs.push((order[b]?.[0] as number) - lse);
    }
  }
  return { ids, logprobs };
}

describe.skipIf(torchMissing !== null)(
  "distillation loss: engine-local = trainer-hf (PyTorch autograd)",
  () => {
    it("forward KL, reverse KL and JSD, full and top-k, at T = 1 and 2: same loss, agreement and gradient", () => {
      const student = randomArray(rows * vocab, 1, 3);
      const teacher = randomArray(rows * vocab, 2, 4);
      const cases = [];
      for (const beta of [0, 0.5, 1])
        for (const temperature of [1, 2])
          for (const k of [0, 3]) cases.push({ beta, temperature, k, ...(k ? topK(teacher, k) : {}) });
      const payload = {
        cases: cases.map((c) => ({ ...c, rows, vocab, student, teacher, targets })),
      };
      const res = spawnSync(PYTHON, ["-c", PY], {
        input: JSON.stringify(payload),
        encoding: "utf8",
        env: { ...process.env, PYTHONPATH: TRAINER_PYTHON },
      });
      expect(res.stderr).toBe("");
      const torch = JSON.parse(res.stdout) as {
        loss: number;
        count: number;
        agree: number;
        grad: number[];
      }[];
      cases.forEach((c, i) => {
        const ours = distillLoss(
          Float64Array.from(student),
          c.k
            ? {
                kind: "topk",
                k: c.k,
                ids: Int32Array.from(c.ids ?? []),
                logprobs: Float64Array.from(c.logprobs ?? []),
              }
            : { kind: "logits", logits: Float64Array.from(teacher) },
          Int32Array.from(targets),
          rows,
          vocab,
          { beta: c.beta, temperature: c.temperature },
          1,
          true,
        );
        const theirs = torch[i] as (typeof torch)[number];
        expect(ours.lossSum).toBeCloseTo(theirs.loss, 10);
        expect(ours.count).toBe(theirs.count);
        expect(ours.agreeCount).toBe(theirs.agree);
        for (const [j, g] of (ours.dlogits ?? []).entries())
          expect(g).toBeCloseTo(theirs.grad[j] as number, 9);
      });
    });
  },
);
