import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { ROOT, seedDatasetVersion } from "../fixtures/team.ts";

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

  // a revoked token is refused with the reason
  await request.delete(`/api/tokens/${write.id}`);
  const revoked = cli(["runs", "ls"]);
  expect(revoked.code).toBe(3);
  expect(revoked.stderr).toMatch(/revoked/);
});
