import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectHfEngine } from "./detect-hf-engine.ts";

const hasTorch = spawnSync("python3", ["-c", "import torch, transformers, peft"]).status === 0;

describe("detectHfEngine", () => {
  it.skipIf(hasTorch)("reports unavailable with a reason on a machine without the torch stack", async () => {
    const report = await detectHfEngine();
    expect(report.available).toBe(false);
    expect(report.reason).toMatch(/missing Python packages: .*torch/);
    expect(report.gpus).toEqual([]);
    expect(report.versions.python).toMatch(/^3\./);
    expect(report.python).toBeTruthy();
  });

  it("reports a missing interpreter instead of throwing", async () => {
    const report = await detectHfEngine({ python: "/nonexistent/python3" });
    expect(report).toMatchObject({ available: false, gpus: [], versions: {} });
    expect(report.reason).toContain("not found");
  });

  it("reports a failing check instead of throwing", async () => {
    const report = await detectHfEngine({ python: "false" });
    expect(report.available).toBe(false);
    expect(report.reason).toContain("check failed");
  });

  it("reports the GPUs and versions the check prints", async () => {
    // A stand-in interpreter that prints what `check` prints on a GPU worker.
    const dir = mkdtempSync(join(tmpdir(), "hf-detect-"));
    const fake = join(dir, "python");
    const report = {
      available: true,
      python: "/opt/venv/bin/python",
      gpus: [{ name: "NVIDIA H100 80GB HBM3", memoryMb: 81559 }],
      versions: { python: "3.11.9", torch: "2.11.0", transformers: "5.0.0", peft: "0.18.0" },
      cuda: { deviceCount: 1 },
    };
    writeFileSync(fake, `#!/bin/sh\necho '${JSON.stringify(report)}'\n`, { mode: 0o755 });
    try {
      expect(await detectHfEngine({ python: fake })).toEqual({
        available: true,
        python: "/opt/venv/bin/python",
        gpus: report.gpus,
        versions: report.versions,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
