/**
 * Hub download throughput through the local Hub server (loopback): listing, streaming to disk,
 * sha256 of every byte, and one resume after a connection cut mid-file.
 *   npm run bench:download -w packages/catalog  [-- <MiB, default 256>]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { downloadHubModel } from "../src/hub-download.ts";
import { encodeSafetensors, startHubTestServer } from "../src/testing/hub-test-server.ts";

const mib = Number(process.argv[2] ?? 256);
const rows = Math.floor((mib * 1024 * 1024) / (4096 * 4));
const weights = encodeSafetensors({ "model.embed_tokens.weight": { dtype: "F32", shape: [rows, 4096] } });
const config = Buffer.from(JSON.stringify({ model_type: "llama", architectures: ["LlamaForCausalLM"] }));
const hub = await startHubTestServer({
  "bench/model": { files: { "config.json": config, "model.safetensors": weights } },
});
for (const cut of [false, true]) {
  const dir = mkdtempSync(join(tmpdir(), "hub-bench-"));
  if (cut) hub.dropOnce("bench/model", "model.safetensors", Math.floor(weights.length / 2));
  const t0 = performance.now();
  await downloadHubModel({ endpoint: hub.url, repoId: "bench/model", dir });
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${(weights.length / 2 ** 20).toFixed(0)} MiB ${cut ? "with a cut at half, resumed" : "in one go"}: ${s.toFixed(2)} s, ${(weights.length / 2 ** 20 / s).toFixed(0)} MiB/s (sha256 checked)`,
  );
  rmSync(dir, { recursive: true, force: true });
}
await hub.close();
