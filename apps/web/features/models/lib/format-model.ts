/** "135M", "1.5B": parameter counts as people say them. */
export function formatParameters(n: number | null): string {
  if (n === null) return "—";
  if (n >= 1e9) return `${trim(n / 1e9)}B`;
  if (n >= 1e6) return `${trim(n / 1e6)}M`;
  if (n >= 1e3) return `${trim(n / 1e3)}K`;
  return String(n);
}

function trim(v: number): string {
  return v >= 100
    ? v.toFixed(0)
    : v >= 10
      ? v.toFixed(1).replace(/\.0$/, "")
      : v.toFixed(2).replace(/\.?0+$/, "");
}

export function formatBytes(n: number | null): string {
  if (n === null) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : trim(v)} ${units[u]}`;
}

export const ENGINE_LABELS: Record<string, string> = {
  local: "CPU (engine-local)",
  hf: "GPU (transformers)",
};

/**
 * What LoRA training costs the CPU engine per token, from the parameter count alone: the forward
 * pass and the backward pass to the activations through the frozen base are ~2N FLOP each (the
 * base gets no weight gradients; the adapters are a rounding error), and the engine holds the
 * base in f32. engine-local's README measures SmolLM2-135M against this (~138 GFLOP per 256
 * tokens); a worker's GFLOP/s turns it into seconds.
 */
export function cpuTrainingWork(
  parameters: number | null,
): { flopPerToken: number; weightBytes: number } | null {
  if (parameters === null || parameters <= 0) return null;
  return { flopPerToken: 4 * parameters, weightBytes: 4 * parameters };
}
