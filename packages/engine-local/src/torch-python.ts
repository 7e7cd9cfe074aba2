import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * For tests and benches that check the engine against PyTorch: Debian's python3 with
 * python3-torch (scripts/setup-test-deps.sh installs it). `torchMissing` is the reason to skip,
 * or null when PyTorch can be used.
 */
export const PYTHON = "/usr/bin/python3";
export const TORCH_SCRIPT = fileURLToPath(new URL("../scripts/torch-llama.py", import.meta.url));

const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
export const torchMissing: string | null =
  probe.status !== 0
    ? `PyTorch is not importable by ${PYTHON} (run scripts/setup-test-deps.sh as root)`
    : null;

/** Runs scripts/torch-llama.py with `args`; throws with its stderr when it fails. */
export function runTorchScript(args: string[]): string {
  const res = spawnSync(PYTHON, [TORCH_SCRIPT, ...args], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (res.status !== 0) throw new Error(`torch-llama.py ${args[0]} failed: ${res.stderr}`);
  return res.stdout;
}
