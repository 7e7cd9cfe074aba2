import { cpus, hostname, totalmem } from "node:os";

export interface WorkerCapabilities {
  host: string;
  cpuCount: number;
  memoryMb: number;
  gpus: { name: string; memoryMb: number }[];
  engines: string[];
  capabilities: Record<string, string | number | boolean | object>;
}

/**
 * What this worker can run. The CPU engine is always here; the `hf` engine is advertised only when
 * a detector (packages/trainer-hf) finds a GPU and a Python with torch + transformers + peft.
 */
export async function detectCapabilities(
  detectors: {
    name: string;
    detect: () => Promise<{
      available: boolean;
      gpus?: { name: string; memoryMb: number }[];
      reason?: string;
      versions?: Record<string, string>;
    }>;
  }[] = [],
): Promise<WorkerCapabilities> {
  const engines = ["echo", "local"];
  const gpus: { name: string; memoryMb: number }[] = [];
  const capabilities: WorkerCapabilities["capabilities"] = {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  };
  for (const d of detectors) {
    try {
      const r = await d.detect();
      capabilities[d.name] = r.available
        ? { available: true, versions: r.versions ?? {} }
        : { available: false, reason: r.reason ?? "" };
      if (r.available) {
        engines.push(d.name);
        gpus.push(...(r.gpus ?? []));
      }
    } catch (e) {
      capabilities[d.name] = { available: false, reason: (e as Error).message };
    }
  }
  return {
    host: hostname(),
    cpuCount: cpus().length,
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    gpus,
    engines,
    capabilities,
  };
}
