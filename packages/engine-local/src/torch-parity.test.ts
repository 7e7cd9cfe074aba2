import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadModelDir } from "./io/hf-model-dir.ts";
import { forwardTrain } from "./model/llama-forward.ts";
import { createFixtureModel, makeTempDir } from "./test-fixtures.ts";

/**
 * An independent PyTorch implementation (scripts/torch-llama.py) loads the engine's
 * config.json + model.safetensors and must produce the same logits. Needs Debian's
 * python3-torch (scripts/setup-test-deps.sh installs it); skips with the reason otherwise.
 */
const PYTHON = "/usr/bin/python3";
const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
const torchMissing =
  probe.status !== 0
    ? `PyTorch is not importable by ${PYTHON} (run scripts/setup-test-deps.sh as root)`
    : null;
if (torchMissing) console.warn(`skipping PyTorch parity: ${torchMissing}`);

describe.skipIf(torchMissing !== null)("PyTorch parity", () => {
  for (const variant of [
    { tie: true, numKvHeads: 4 },
    { tie: false, numKvHeads: 2 },
  ]) {
    it(`logits match an independent PyTorch Llama (tied=${variant.tie}, kv heads ${variant.numKvHeads})`, () => {
      const dir = createFixtureModel({ ...variant, hiddenSize: 64, numLayers: 2 });
      const model = loadModelDir(dir);
      const B = 2;
      const T = 9;
      const ids = Array.from({ length: B }, (_, b) =>
        Array.from({ length: T }, (_, t) => (b * 53 + t * 17 + 3) % model.config.vocabSize),
      );
      const work = makeTempDir("parity");
      writeFileSync(join(work, "ids.json"), JSON.stringify(ids));
      const script = fileURLToPath(new URL("../scripts/torch-llama.py", import.meta.url));
      const res = spawnSync(
        PYTHON,
        [script, "logits", dir, join(work, "ids.json"), join(work, "logits.f32")],
        { encoding: "utf8" },
      );
      expect(res.stderr).toBe("");
      const buf = readFileSync(join(work, "logits.f32"));
      const torchLogits = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      const engine = forwardTrain(model, Int32Array.from(ids.flat()), B, T, null).logits;
      expect(torchLogits.length).toBe(engine.length);
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < engine.length; i++) {
        worst = Math.max(worst, Math.abs((engine[i] as number) - (torchLogits[i] as number)));
        scale = Math.max(scale, Math.abs(torchLogits[i] as number));
      }
      expect(scale).toBeGreaterThan(0.01);
      expect(worst).toBeLessThan(1e-5 + 1e-4 * scale);
    });
  }
});
