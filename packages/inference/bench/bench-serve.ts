/**
 * `npm run bench:serve`: the demo's student served through the OpenAI-compatible HTTP API (the
 * same /v1 handlers as the web app, on a local HTTP server), for onnxruntime-node and for the
 * engine's own generation: decode tokens/s with 1 and with 8 concurrent streams, and time to
 * first token (p50/p95) for a short prompt on a loaded model. The weights are the demo
 * student's untrained init (same shape and speed as the trained one; speed does not depend on
 * the values). Streams use ignore_eos so every one decodes exactly MAX_TOKENS tokens.
 * The last line is one JSON object: {"ort_tps_1","ort_tps_8","engine_tps_1","engine_tps_8","ttft_p95_ms"}.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { buildDemoPlan } from "@distillery/demo";

const MAX_TOKENS = 64;
const ROUNDS = 3;
const TTFT_SAMPLES = 30;
const log = (m: string) => console.error(m);

interface StreamTiming {
  start: number;
  first: number;
  last: number;
  tokens: number;
}

async function streamOnce(url: string, content: string, maxTokens: number): Promise<StreamTiming> {
  const start = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "student",
      messages: [{ role: "user", content }],
      max_tokens: maxTokens,
      temperature: 0.7,
      seed: Math.floor(Math.random() * 1e9),
      stream: true,
      ignore_eos: true,
      stream_options: { include_usage: true },
    }),
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const t: StreamTiming = { start, first: 0, last: 0, tokens: 0 };
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let at = buffer.indexOf("\n\n");
    while (at !== -1) {
      const line = buffer.slice(0, at).replace(/^data: /, "");
      buffer = buffer.slice(at + 2);
      at = buffer.indexOf("\n\n");
      if (line === "[DONE]") continue;
      const chunk = JSON.parse(line) as {
        usage?: { completion_tokens: number };
        choices: { delta: { content?: string; reasoning_content?: string } }[];
      };
      if (chunk.usage) t.tokens = chunk.usage.completion_tokens;
      const d = chunk.choices[0]?.delta;
      if (d && (d.content || d.reasoning_content)) {
        const now = performance.now();
        if (!t.first) t.first = now;
        t.last = now;
      }
    }
  }
  return t;
}

/** decode tokens/s of `streams` concurrent streams: tokens after each stream's first, over the wall time they span */
async function decodeTps(url: string, streams: number): Promise<number> {
  let tokens = 0;
  let seconds = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const timings = await Promise.all(
      Array.from({ length: streams }, (_, i) =>
        streamOnce(url, `What is ${10 + i} + ${20 + r}?`, MAX_TOKENS),
      ),
    );
    const first = Math.min(...timings.map((t) => t.first));
    const last = Math.max(...timings.map((t) => t.last));
    tokens += timings.reduce((s, t) => s + t.tokens - 1, 0);
    seconds += (last - first) / 1000;
  }
  return tokens / seconds;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
};

/** the server in its own process, so the clients' work is not counted against it */
async function startServer(modelDir: string, backend: string) {
  const entry = join(import.meta.dirname, "serve-student.ts");
  const child = spawn(process.execPath, ["--import", "tsx", entry, modelDir, backend], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  for await (const line of createInterface({ input: child.stdout }))
    if (line.startsWith("ready ")) return { server: { url: line.slice(6) }, child };
  throw new Error(`the ${backend} server exited before it was ready`);
}

async function benchBackend(backend: "ort" | "engine", modelDir: string) {
  const { server, child } = await startServer(modelDir, backend);
  try {
    await streamOnce(server.url, "What is 1 + 2?", 8); // load + warm up
    const tps1 = await decodeTps(server.url, 1);
    const tps8 = await decodeTps(server.url, 8);
    const ttft: number[] = [];
    for (let i = 0; i < TTFT_SAMPLES; i++) {
      const t = await streamOnce(server.url, `What is ${i} + 7?`, 2);
      ttft.push(t.first - t.start);
    }
    const result = { tps1, tps8, ttftP50: percentile(ttft, 0.5), ttftP95: percentile(ttft, 0.95) };
    log(
      `[bench:serve] ${backend}: ${tps1.toFixed(0)} tok/s at 1 stream, ${tps8.toFixed(0)} tok/s at 8 (${(tps8 / tps1).toFixed(2)}×), ttft p50 ${result.ttftP50.toFixed(1)} ms p95 ${result.ttftP95.toFixed(1)} ms`,
    );
    return result;
  } finally {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
}

const dir = mkdtempSync(join(tmpdir(), "bench-serve-"));
try {
  const plan = await buildDemoPlan(dir, { trainSize: 50, heldoutSize: 10 });
  const c = plan.studentInit.config;
  log(
    `[bench:serve] demo student: d ${c.hiddenSize}, ${c.numLayers} layers, ${c.numHeads} heads, vocab ${c.vocabSize}; ${MAX_TOKENS} tokens per stream`,
  );
  const ort = await benchBackend("ort", plan.studentInit.dir);
  const engine = await benchBackend("engine", plan.studentInit.dir);
  const round = (x: number) => Math.round(x * 10) / 10;
  console.log(
    JSON.stringify({
      ort_tps_1: round(ort.tps1),
      ort_tps_8: round(ort.tps8),
      engine_tps_1: round(engine.tps1),
      engine_tps_8: round(engine.tps8),
      ttft_p95_ms: round(Math.min(ort.ttftP95, engine.ttftP95)),
      ttft_p50_ms: round(Math.min(ort.ttftP50, engine.ttftP50)),
      ort_ttft_p95_ms: round(ort.ttftP95),
      engine_ttft_p95_ms: round(engine.ttftP95),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
