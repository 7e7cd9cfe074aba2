import { createReadStream, mkdirSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { StudioClient } from "./client.ts";
import { type CliConfig, loadConfig, saveConfig } from "./config.ts";
import { CliError, EXIT } from "./exit-codes.ts";
import { createProgress } from "./progress.ts";
import { formatFieldErrors, readRunFile, validateRunFile } from "./run-file.ts";
import { readSse } from "./sse.ts";

export interface GlobalFlags {
  url?: string;
  token?: string;
  json?: boolean;
}
export type Out = { json: (v: unknown) => void; line: (s: string) => void };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function client(flags: GlobalFlags): StudioClient {
  return new StudioClient(loadConfig(flags));
}

export async function login(flags: GlobalFlags & { url?: string; token?: string }, out: Out) {
  if (!flags.url || !flags.token) throw new CliError("login needs --url and --token", EXIT.usage);
  const config: CliConfig = { url: flags.url.replace(/\/+$/, ""), token: flags.token };
  const me = await new StudioClient(config).json<{
    user: { email: string };
    role: string;
    tokenScope: string;
    workspaceId: string;
  }>("/api/me");
  const path = saveConfig(config);
  out.json({
    url: config.url,
    user: me.user.email,
    role: me.role,
    scope: me.tokenScope,
    workspaceId: me.workspaceId,
    config: path,
  });
  out.line(
    `logged in to ${config.url} as ${me.user.email} (${me.role}, token scope ${me.tokenScope}); saved to ${path}`,
  );
}

export async function whoami(flags: GlobalFlags, out: Out) {
  const me = await client(flags).json<{ user: { email: string }; role: string; tokenScope: string }>(
    "/api/me",
  );
  out.json(me);
  out.line(`${me.user.email} (${me.role}, token scope ${me.tokenScope})`);
}

interface DatasetRow {
  id: string;
  name: string;
  latestVersion?: { id: string; version: number; rowCount: number } | null;
  [k: string]: unknown;
}

export async function datasetsLs(flags: GlobalFlags, out: Out) {
  const res = await client(flags).json<{ datasets: DatasetRow[] }>("/api/datasets");
  out.json(res.datasets);
  for (const d of res.datasets) out.line(`${d.id}  ${d.name}`);
  if (res.datasets.length === 0) out.line("no datasets");
}

export async function datasetsUpload(file: string, opts: { name?: string }, flags: GlobalFlags, out: Out) {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new CliError(`cannot read ${file}`, EXIT.usage);
  }
  const studio = client(flags);
  const bar = createProgress(`uploading ${basename(file)}`, size, !flags.json);
  let sent = 0;
  const stream = createReadStream(file);
  stream.on("data", (c) => {
    sent += (c as Buffer).length;
    bar.update(sent);
  });
  const upload = await studio.json<{ uploadId: string; fileName: string; bytes: number }>(
    `/api/datasets/uploads?fileName=${encodeURIComponent(basename(file))}`,
    {
      method: "POST",
      body: Readable.toWeb(stream) as unknown as string,
      headers: { "content-type": "application/octet-stream" },
      duplex: "half",
    } as RequestInit & { body: string },
  );
  bar.done();
  const datasetName = opts.name ?? basename(file).replace(/\.(jsonl|json|csv|parquet)(\.gz)?$/i, "");
  const started = await studio.json<{ jobId: string }>("/api/datasets/imports", {
    method: "POST",
    body: JSON.stringify({
      datasetName,
      source: { kind: "upload", uploadId: upload.uploadId, fileName: upload.fileName },
    }),
  });
  let lastLine = "";
  for (;;) {
    const job = await studio.json<{
      status: string;
      output: Record<string, unknown> | null;
      error: string | null;
    }>(`/api/datasets/jobs/${started.jobId}`);
    const line = `import ${job.status}${job.output ? ` ${JSON.stringify(job.output)}` : ""}`;
    if (!flags.json && line !== lastLine && process.stderr.isTTY)
      process.stderr.write(`\r${line.slice(0, 150)}   `);
    lastLine = line;
    if (job.status === "completed") {
      if (!flags.json && process.stderr.isTTY) process.stderr.write("\n");
      out.json({
        uploadId: upload.uploadId,
        bytes: upload.bytes,
        jobId: started.jobId,
        datasetName,
        output: job.output,
      });
      out.line(`imported ${datasetName} (job ${started.jobId})`);
      return;
    }
    if (job.status === "failed" || job.status === "cancelled")
      throw new CliError(`import ${job.status}: ${job.error ?? "no reason given"}`, EXIT.error);
    await sleep(500);
  }
}

interface RunView {
  id: string;
  name: string;
  status: string;
  launchedBy?: { name?: string; email?: string } | null;
  createdAt?: string;
}

export async function runsLs(opts: { status?: string; limit?: string }, flags: GlobalFlags, out: Out) {
  const q = new URLSearchParams();
  if (opts.status) q.set("status", opts.status);
  if (opts.limit) q.set("limit", opts.limit);
  const res = await client(flags).json<{ runs: RunView[] }>(`/api/runs${q.size ? `?${q}` : ""}`);
  out.json(res.runs);
  for (const r of res.runs)
    out.line(
      `${r.id}  ${r.status.padEnd(9)}  ${r.name}${r.launchedBy?.name ? `  (${r.launchedBy.name})` : ""}`,
    );
  if (res.runs.length === 0) out.line("no runs");
}

export async function runsLaunch(opts: { file: string }, flags: GlobalFlags, out: Out) {
  const file = readRunFile(opts.file);
  const config = validateRunFile(file);
  try {
    const res = await client(flags).json<{ run: RunView }>("/api/runs", {
      method: "POST",
      body: JSON.stringify({ config }),
    });
    out.json(res.run);
    out.line(`launched ${res.run.id} (${res.run.name}), ${res.run.status}`);
  } catch (e) {
    // the server's field errors point into the same file
    if (e instanceof CliError && e.details.length > 0)
      throw new CliError(`${e.message}\n${formatFieldErrors(file, e.details)}`, e.exitCode, e.details);
    throw e;
  }
}

export async function runsCancel(id: string, flags: GlobalFlags, out: Out) {
  const res = await client(flags).json<{ status: string }>(`/api/runs/${encodeURIComponent(id)}/cancel`, {
    method: "POST",
    body: "{}",
  });
  out.json(res);
  out.line(`cancel requested for ${id} (${res.status})`);
}

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

/** Follows a run's SSE stream to its end; exits with the run's status. */
export async function runsWatch(id: string, flags: GlobalFlags, out: Out): Promise<number> {
  const studio = client(flags);
  const path = `/api/runs/${encodeURIComponent(id)}`;
  await studio.json(path); // 404 before streaming
  const res = await studio.request(`${path}/events`, { headers: { accept: "text/event-stream" } });
  let totalSteps = 0;
  let firstStep: { step: number; at: number } | null = null;
  const values: Record<string, number> = {};
  let step = 0;
  if (res.body)
    for await (const msg of readSse(res.body)) {
      if (msg.event === "end") break;
      if (msg.event !== "message" || !msg.data) continue;
      const e = JSON.parse(msg.data) as {
        type: string;
        step?: number;
        totalSteps?: number;
        values?: Record<string, number>;
        phase?: string;
        message?: string;
      };
      if (flags.json) {
        out.json(e);
        continue;
      }
      if (e.type === "status" && e.totalSteps) totalSteps = e.totalSteps;
      if (e.type === "status") process.stdout.write(`\n[${e.phase}] ${e.message ?? ""}\n`);
      if (e.type === "error") process.stdout.write(`\nerror: ${e.message}\n`);
      if (e.type === "metric" && e.values) {
        Object.assign(values, e.values);
        step = e.step ?? step;
        const now = Date.now();
        firstStep ??= { step, at: now };
        const rate = step > firstStep.step ? (step - firstStep.step) / ((now - firstStep.at) / 1000) : 0;
        const eta = rate > 0 && totalSteps ? `${Math.max(0, Math.round((totalSteps - step) / rate))} s` : "—";
        const fmt = (k: string, d = 4) => (values[k] === undefined ? "—" : Number(values[k]).toPrecision(d));
        const line = `step ${step}${totalSteps ? `/${totalSteps}` : ""}  loss ${fmt("loss")}  lr ${fmt("learning_rate", 3)}  tok/s ${fmt("tokens_per_second", 4)}  ETA ${eta}`;
        process.stdout.write(process.stdout.isTTY ? `\r${line}   ` : `${line}\n`);
      }
    }
  const final = await studio.json<{ run: RunView }>(path);
  if (!flags.json) out.line(`\n${id} ${final.run.status}`);
  else out.json({ id, status: final.run.status });
  if (!FINAL.has(final.run.status)) return EXIT.error;
  return final.run.status === "succeeded"
    ? EXIT.ok
    : final.run.status === "failed"
      ? EXIT.runFailed
      : EXIT.runCancelled;
}

interface DownloadItem {
  name: string;
  downloadUrl: string;
  bytes?: number | string | null;
}

export async function artifactsDownload(runId: string, opts: { out: string }, flags: GlobalFlags, out: Out) {
  const studio = client(flags);
  const res = await studio.json<{ artifacts: DownloadItem[]; checkpoints: DownloadItem[] }>(
    `/api/runs/${encodeURIComponent(runId)}/artifacts`,
  );
  mkdirSync(opts.out, { recursive: true });
  const written: { name: string; path: string; bytes: number }[] = [];
  for (const item of res.artifacts) {
    const download = await studio.request(item.downloadUrl);
    const total = Number(download.headers.get("content-length") ?? item.bytes ?? 0) || null;
    const disposition = download.headers.get("content-disposition") ?? "";
    const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? item.name;
    const path = join(opts.out, basename(name));
    const bar = createProgress(name, total, !flags.json);
    const fh = await open(path, "w");
    let bytes = 0;
    if (download.body)
      for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        bytes += chunk.length;
        bar.update(bytes);
      }
    await fh.close();
    bar.done();
    written.push({ name, path, bytes });
    out.line(`${path}  ${bytes} bytes`);
  }
  out.json(written);
  if (written.length === 0) out.line(`run ${runId} has no artifacts yet`);
}

export async function generationsLs(flags: GlobalFlags, out: Out) {
  const res = await client(flags).json<Record<string, unknown>>("/api/generations");
  const rows = (Object.values(res).find(Array.isArray) ?? []) as {
    id: string;
    status: string;
    name?: string;
  }[];
  out.json(rows);
  for (const g of rows) out.line(`${g.id}  ${g.status}  ${g.name ?? ""}`);
  if (rows.length === 0) out.line("no generation jobs");
}

export async function generationsCancel(id: string, flags: GlobalFlags, out: Out) {
  const res = await client(flags).json<unknown>(`/api/generations/${encodeURIComponent(id)}/cancel`, {
    method: "POST",
    body: "{}",
  });
  out.json(res);
  out.line(`cancel requested for ${id}`);
}
