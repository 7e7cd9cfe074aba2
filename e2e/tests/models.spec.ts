import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { ROOT, runTs } from "../fixtures/team.ts";

/**
 * A model comes from "the Hub" (a local server that serves the Hub's routes, on the port the
 * stack pointed HF_ENDPOINT at), is trained on the CPU, and its adapter is downloaded from the
 * run page. The first download of the weights is cut mid-file: the worker resumes it with Range.
 */
const tag = Date.now().toString(36);
const REPO = `e2e-org/tiny-student-${tag}`;
let hub: ChildProcess | undefined;

/** Writes a tiny Llama student (random weights, real BPE tokenizer) and serves it as a Hub repo. */
async function startHub(): Promise<ChildProcess> {
  const port = process.env.E2E_HUB_PORT;
  if (!port) throw new Error("E2E_HUB_PORT is not set: run the e2e specs through `npm test`");
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `
      import { mkdtempSync } from "node:fs";
      import { tmpdir } from "node:os";
      import { join } from "node:path";
      import { repoFromDir, startHubTestServer } from "@distillery/catalog/testing";
      import { createTinyModel } from "@distillery/engine-local";
      const dir = join(mkdtempSync(join(tmpdir(), "e2e-hub-")), "tiny");
      const corpus = [];
      for (let i = 0; i < 200; i++) corpus.push("What is " + i + " + " + (i * 7 % 90) + "?", "The sum is " + (i + (i * 7 % 90)) + ".");
      createTinyModel(dir, { corpus, vocabSize: 400, hiddenSize: 64, numLayers: 2, numHeads: 4, maxPositions: 256, seed: 5 });
      const repo = repoFromDir(dir);
      const hub = await startHubTestServer({ ${JSON.stringify(REPO)}: repo }, { port: ${Number(port)} });
      const weights = Object.keys(repo.files).find((f) => f.endsWith(".safetensors"));
      hub.dropOnce(${JSON.stringify(REPO)}, weights, Math.floor(repo.files[weights].length / 2));
      console.log("ready " + weights);
      setInterval(() => {
        const resumed = hub.requests.filter((r) => r.range);
        if (resumed.length) console.log("resumed " + resumed.map((r) => r.range).join(","));
      }, 500);
      `,
    ],
    { cwd: ROOT, env: process.env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  await expect.poll(() => out, { timeout: 60_000 }).toContain("ready");
  (child as ChildProcess & { output: () => string }).output = () => out;
  return child;
}

function seedDataset(name: string): { datasetId: string; versionId: string } {
  return runTs<{ datasetId: string; versionId: string }>(`
    import { join } from "node:path";
    import { createDatasetVersion, ensureDataset } from "@distillery/catalog";
    import { createDb, ensureDefaultWorkspace } from "@distillery/db";
    import { createFsBlobStore } from "@distillery/storage";
    const db = createDb(process.env.E2E_DATABASE_URL);
    const store = createFsBlobStore(join(process.env.DISTILLERY_DATA_DIR, "blobs"));
    const { workspaceId } = await ensureDefaultWorkspace(db);
    const rows = [];
    for (let i = 0; i < 64; i++) {
      const a = i, b = (i * 7) % 90;
      rows.push({ messages: [{ role: "user", content: "What is " + a + " + " + b + "?" }], reasoning: a + " + " + b + " = " + (a + b), answer: "The sum is " + (a + b) + ".", think: "ok" });
    }
    const ds = await ensureDataset(db, { workspaceId, name: ${JSON.stringify(name)} });
    const version = await createDatasetVersion(db, store, { workspaceId, datasetId: ds.id, operation: { kind: "e2e" }, write: async (sink) => { await sink.write(rows); return {}; } });
    await db.$disconnect();
    console.log(JSON.stringify({ datasetId: ds.id, versionId: version.id }));
  `);
}

test.beforeAll(async () => {
  hub = await startHub();
});
test.afterAll(() => {
  hub?.kill("SIGTERM");
});

test("a model added from the Hub by id trains on the CPU, and its adapter downloads from the run page", async ({
  page,
}) => {
  test.setTimeout(300_000);
  const { datasetId, versionId } = seedDataset(`e2e sums for hub ${tag}`);

  await page.goto("/models");
  await page.getByLabel("Hub model id").fill(REPO);
  await page.getByRole("button", { name: "Download" }).click();
  const job = page.getByTestId("model-job").filter({ hasText: REPO });
  await expect(job.getByTestId("model-job-status")).toHaveText("completed", { timeout: 120_000 });
  // the cut connection was resumed from where it stopped, not restarted
  await expect
    .poll(() => (hub as ChildProcess & { output: () => string }).output(), { timeout: 10_000 })
    .toMatch(/resumed bytes=\d+-/);

  const row = page.getByTestId("model-row").filter({ hasText: REPO });
  await expect(row).toContainText("llama");
  await expect(row).toContainText("256 tokens");
  await expect(row).toContainText("✓ CPU (engine-local)");
  await row.getByRole("button", { name: "Details" }).click();
  await expect(page.getByTestId("model-detail")).toContainText("eos");
  await expect(page.getByTestId("cpu-work")).toContainText("GFLOP per trained token");
  await expect(page.getByTestId("chat-template")).not.toBeEmpty();

  // the version's token statistics are counted again with this student's tokenizer, and
  // "Use in a new run" then starts on this model
  await page.goto(`/datasets/${datasetId}/versions/${versionId}`);
  await page.getByLabel("Count with the student's tokenizer").selectOption({ label: REPO });
  await page.getByRole("button", { name: "Recount" }).click();
  await expect(page.getByTestId("stats-tokenizer")).toContainText(`Counted with ${REPO}'s tokenizer.json`, {
    timeout: 60_000,
  });
  await expect(page.getByTestId("use-in-run")).toHaveAttribute("href", /modelId=/);
  await page.goto("/models");

  // "Train" opens the form with this model, defaults for it, and no dataset guessed
  await row.getByRole("link", { name: "Train" }).click();
  await page.waitForURL(/\/runs\/new\?modelId=/);
  await expect(page.getByLabel("Engine")).toHaveValue("local");
  await expect(page.getByLabel("Max sequence length")).toHaveValue("256");
  await page.getByLabel("Dataset version").selectOption(versionId);
  // longer than the model's context: refused next to the field
  await page.getByLabel("Max sequence length").fill("640");
  await expect(page.getByTestId("error-Max sequence length")).toContainText("over");
  await expect(page.getByTestId("error-Max sequence length")).toContainText("context of 256 tokens");
  await page.getByLabel("Max sequence length").fill("128");
  await page.getByLabel("Max steps").fill("6");
  await expect(page.getByLabel("Epochs")).toBeDisabled();
  await expect(page.getByTestId("summary-steps")).toContainText("set by max steps");
  await page.getByLabel("Logging steps").fill("1");
  await page.getByLabel("Eval strategy").selectOption("no");
  await page.getByLabel("Save strategy").selectOption("no");
  await page.getByRole("button", { name: "Launch run" }).click();

  await page.waitForURL(/\/runs\/run_/);
  await expect(page.getByTestId("run-status")).toHaveText("succeeded", { timeout: 180_000 });
  // the loss curve saves as CSV: one row per step, train loss in its own column
  const [csv] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("chart-loss").getByRole("button", { name: "CSV" }).click(),
  ]);
  expect(csv.suggestedFilename()).toMatch(/-loss\.csv$/);
  expect(readFileSync(await csv.path()).toString()).toMatch(/^step,train loss\n\d+,\d/);

  const artifacts = page.getByTestId("artifacts");
  await expect(artifacts.getByTestId("artifact-row").first()).toBeVisible({ timeout: 30_000 });
  await expect(artifacts).toContainText("LoRA adapter");

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    artifacts.getByTestId("download-adapter").click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/-adapter\.tar$/);
  const path = await download.path();
  const tar = readFileSync(path);
  // a ustar archive holding the PEFT adapter's files
  expect(tar.subarray(257, 262).toString()).toBe("ustar");
  expect(tar.toString("latin1")).toContain("adapter_config.json");
  expect(tar.toString("latin1")).toContain("adapter_model.safetensors");
});
