import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { ROOT, runTs, seedDatasetVersion } from "../fixtures/team.ts";

/** The `distillery` command against the real stack, with tokens made on the studio's API. */
const dir = mkdtempSync(join(tmpdir(), "e2e-cli-"));
const tag = `${Date.now()}`;

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, "packages/cli/bin/distillery.mjs"), ...args], {
    cwd: dir,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, DISTILLERY_CONFIG: join(dir, "config.json"), ...env },
  });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    json: () => JSON.parse(r.stdout.trim().split("\n").pop() ?? "null"),
  };
}

/**
 * Two finished runs in the default workspace, as a worker leaves them: one that succeeded (status,
 * metrics, an adapter artifact of 300 kB in blob storage), one that failed without events.
 */
function seedFinishedRuns(tag: string): { succeeded: string; failed: string } {
  return runTs(`
    import { join } from "node:path";
    import { createDb, ensureDefaultWorkspace } from "@distillery/db";
    import { createFsBlobStore } from "@distillery/storage";
    const db = createDb(process.env.E2E_DATABASE_URL);
    const store = createFsBlobStore(join(process.env.DISTILLERY_DATA_DIR, "blobs"));
    const { workspaceId, userId } = await ensureDefaultWorkspace(db);
    const ids = { succeeded: "run_cliok${tag}", failed: "run_clifail${tag}" };
    const t0 = Date.now() - 60_000;
    const events = [
      { type: "status", phase: "training", message: "training", totalSteps: 20 },
      { type: "metric", step: 5, values: { loss: 2, learning_rate: 0.0002, tokens_per_second: 1200 } },
      { type: "metric", step: 10, values: { loss: 1.5, learning_rate: 0.0002, tokens_per_second: 1234 } },
      { type: "metric", step: 20, values: { loss: 0.75, learning_rate: 0.0001, tokens_per_second: 1300 } },
      { type: "done", step: 20 },
    ].map((e, seq) => ({ ...e, runId: ids.succeeded, seq, ts: t0 + seq * 10_000 }));
    for (const [id, status] of [[ids.succeeded, "succeeded"], [ids.failed, "failed"]])
      await db.run.create({ data: {
        id, workspaceId, name: id, engine: "hf", status, launchedById: userId ?? null,
        config: { training: { maxSteps: 20 } }, lastSeq: id === ids.succeeded ? events.length - 1 : -1,
        finishedAt: new Date(), ...(status === "failed" ? { error: "out of memory" } : {}),
      } });
    await db.runEvent.createMany({ data: events.map((e) => ({
      workspaceId, runId: ids.succeeded, seq: e.seq, type: e.type, step: e.step ?? null, data: e,
    })) });
    const blobKey = "runs/" + ids.succeeded + "/artifacts/adapter";
    await store.put(blobKey + "/adapter_model.safetensors", Buffer.alloc(300_000, 7));
    await db.artifact.create({ data: {
      id: "art_cli${tag}", workspaceId, runId: ids.succeeded, kind: "adapter", name: "adapter",
      blobKey, bytes: 300000,
    } });
    await db.$disconnect();
    console.log(JSON.stringify(ids));
  `);
}

test("login, upload and import a dataset, launch from a YAML file, list, cancel, watch to the end, download", async ({
  request,
  baseURL,
}) => {
  test.setTimeout(240_000);
  const write = await (
    await request.post("/api/tokens", { data: { name: `cli ${tag}`, scope: "write", expiresInDays: 1 } })
  ).json();
  expect(cli(["login", "--url", baseURL as string, "--token", write.token]).code).toBe(0);
  expect(cli(["whoami", "--json"]).json()).toMatchObject({ role: "owner", tokenScope: "write" });

  // upload with the import's progress after it
  const file = join(dir, `cli-traces-${tag}.jsonl`);
  const rows = Array.from({ length: 30 }, (_, i) =>
    JSON.stringify({
      instruction: `What is ${i} + ${i}?`,
      response: `<think>\n${i} + ${i} = ${2 * i}\n</think>\n\nThe answer is ${2 * i}.`,
    }),
  );
  writeFileSync(file, `${rows.join("\n")}\n`);
  const upload = cli(["datasets", "upload", file, "--name", `cli traces ${tag}`, "--json"]);
  expect(upload.code, upload.stderr).toBe(0);
  expect(upload.json()).toMatchObject({ datasetName: `cli traces ${tag}` });
  const datasets = cli(["datasets", "ls", "--json"]).json() as { name: string }[];
  expect(datasets.map((d) => d.name)).toContain(`cli traces ${tag}`);

  // a bad file names the line and field, and nothing is launched
  writeFileSync(
    join(dir, "bad.yaml"),
    "name: bad\nengine: hf\nmodel:\n  id: microsoft/Phi-3-mini-4k-instruct\ndata:\n  datasetVersionId: dv_x\ntraining:\n  learningRate: -1\n",
  );
  const bad = cli(["runs", "launch", "-f", "bad.yaml"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/bad\.yaml:8: training\.learningRate: /);

  const versionId = seedDatasetVersion(`cli data ${tag}`);
  writeFileSync(
    join(dir, "run.yaml"),
    `name: cli run ${tag}\nengine: hf\nmodel:\n  id: microsoft/Phi-3-mini-4k-instruct\ndata:\n  datasetVersionId: ${versionId}\n`,
  );
  const launched = cli(["runs", "launch", "-f", "run.yaml", "--json"]);
  expect(launched.code, launched.stderr).toBe(0);
  const runId = launched.json().id as string;
  expect((cli(["runs", "ls", "--json"]).json() as { id: string }[]).map((r) => r.id)).toContain(runId);

  // a read token cannot cancel (exit 3); the write token can; watch then exits "cancelled" (11)
  const read = await (
    await request.post("/api/tokens", { data: { name: `cli read ${tag}`, scope: "read", expiresInDays: 1 } })
  ).json();
  const refused = cli(["runs", "cancel", runId], { DISTILLERY_TOKEN: read.token });
  expect(refused.code).toBe(3);
  expect(refused.stderr).toMatch(/scope \(read\)/);
  expect(cli(["runs", "cancel", runId]).code).toBe(0);
  const watched = cli(["runs", "watch", runId]);
  expect(watched.code).toBe(11);
  expect(watched.stdout).toContain(`${runId} cancelled`);
  expect(cli(["runs", "cancel", "run_doesnotexist"]).code).toBe(4);

  const out = join(dir, "artifacts");
  expect(cli(["artifacts", "download", runId, "--out", out]).code).toBe(0);
  expect(readdirSync(out)).toEqual([]);

  // a finished run: watch replays step, loss, lr, tokens/s and ETA, and exits 0; a failed one exits 10
  const finished = seedFinishedRuns(tag);
  const ok = cli(["runs", "watch", finished.succeeded]);
  expect(ok.code, ok.stderr).toBe(0);
  expect(ok.stdout).toContain("step 10/20  loss 1.500  lr 0.000200  tok/s 1234  ETA 20s");
  expect(ok.stdout).toContain("step 20/20  loss 0.7500  lr 0.000100  tok/s 1300  ETA 0s");
  expect(ok.stdout).toContain(`${finished.succeeded} succeeded`);
  const okJson = cli(["runs", "watch", finished.succeeded, "--json"]);
  const lines = okJson.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(lines.filter((l) => l.type === "metric").map((l) => l.step)).toEqual([5, 10, 20]);
  expect(lines.at(-1)).toEqual({ id: finished.succeeded, status: "succeeded" });
  expect(cli(["runs", "watch", finished.failed]).code).toBe(10);
  expect(cli(["runs", "watch", "run_doesnotexist"]).code).toBe(4);
  const downloaded = cli(["artifacts", "download", finished.succeeded, "--out", out, "--json"]);
  expect(downloaded.code, downloaded.stderr).toBe(0);
  const files = downloaded.json() as { name: string; bytes: number }[];
  expect(files.map((f) => f.bytes)).toEqual([300_000]);
  expect(readdirSync(out)).toHaveLength(1);

  // generation jobs and evaluations: lists (JSON arrays), unknown ids exit 4
  expect(Array.isArray(cli(["generations", "ls", "--json"]).json())).toBe(true);
  expect(cli(["generations", "show", "gen_doesnotexist"]).code).toBe(4);
  expect(Array.isArray(cli(["evaluations", "ls", "--json"]).json())).toBe(true);
  expect(cli(["evaluations", "show", "ev_doesnotexist", "--json"]).json()).toMatchObject({ exitCode: 4 });
  expect(cli(["evaluations", "export", "ev_doesnotexist", "--out", out]).code).toBe(4);

  // a revoked token is refused with the reason
  await request.delete(`/api/tokens/${write.id}`);
  const revoked = cli(["runs", "ls"]);
  expect(revoked.code).toBe(3);
  expect(revoked.stderr).toMatch(/revoked/);
});
