import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, type Page, test } from "@playwright/test";

/**
 * Runs end to end against the stack `npm test` starts (web, worker with the local engine,
 * Postgres, Redis). The spec seeds its own tiny model and dataset version the way the studio
 * stores them (files in the blob folder, rows in Postgres) through the catalog package.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Seeded {
  modelId: string;
  versionId: string;
}

/** Runs a snippet of TypeScript (ESM) in the repository with tsx; returns what it prints as JSON. */
function runTs<T>(code: string): T {
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd: ROOT,
    env: process.env,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`seeding failed (${r.status}): ${r.stderr}`);
  const last = r.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as T;
}

/** A tiny Llama student (random weights, BPE tokenizer) and an arithmetic R1-style dataset. */
function seedModelAndDataset(tag: string): Seeded {
  return runTs<Seeded>(`
    import { mkdtempSync } from "node:fs";
    import { tmpdir } from "node:os";
    import { join } from "node:path";
    import { createDatasetVersion, ensureDataset, registerModelDir } from "@distillery/catalog";
    import { createDb, ensureDefaultWorkspace } from "@distillery/db";
    import { createTinyModel } from "@distillery/engine-local";
    import { createFsBlobStore } from "@distillery/storage";
    const db = createDb(process.env.E2E_DATABASE_URL);
    const store = createFsBlobStore(join(process.env.DISTILLERY_DATA_DIR, "blobs"));
    const { workspaceId } = await ensureDefaultWorkspace(db);
    const rows = [];
    for (let i = 0; i < 240; i++) {
      const a = 10 + ((i * 37) % 89), b = 10 + ((i * 53) % 83);
      rows.push({
        messages: [{ role: "user", content: "What is " + a + " + " + b + "?" }],
        reasoning: (a % 10) + " + " + (b % 10) + " = " + ((a % 10) + (b % 10)) + ". Then the tens. " + a + " + " + b + " = " + (a + b) + ".",
        answer: String(a + b),
        think: "ok",
      });
    }
    const dir = join(mkdtempSync(join(tmpdir(), "e2e-model-")), "tiny");
    createTinyModel(dir, {
      corpus: rows.flatMap((r) => [r.messages[0].content, r.reasoning, r.answer]),
      vocabSize: 400, hiddenSize: 64, numLayers: 2, numHeads: 4, maxPositions: 256, seed: 3,
    });
    const model = await registerModelDir(db, store, { workspaceId, name: "e2e tiny ${tag}", dir, engines: ["local"] });
    const ds = await ensureDataset(db, { workspaceId, name: "e2e sums ${tag}" });
    const version = await createDatasetVersion(db, store, {
      workspaceId, datasetId: ds.id, operation: { kind: "e2e" },
      write: async (sink) => { await sink.write(rows); return {}; },
    });
    await db.$disconnect();
    console.log(JSON.stringify({ modelId: model.id, versionId: version.id }));
  `);
}

/** Stores a sample event for a run straight in Postgres (as a worker would persist it). */
function insertSample(runId: string, output: string) {
  runTs(`
    import { createDb } from "@distillery/db";
    const db = createDb(process.env.E2E_DATABASE_URL);
    const run = await db.run.findUniqueOrThrow({ where: { id: ${JSON.stringify(runId)} } });
    const seq = run.lastSeq + 1;
    const data = { type: "sample", runId: run.id, seq, ts: Date.now(), step: 7, promptIndex: 0, prompt: "What is 2 + 2?", output: ${JSON.stringify(output)} };
    await db.runEvent.create({ data: { workspaceId: run.workspaceId, runId: run.id, seq, type: "sample", step: 7, data } });
    await db.run.update({ where: { id: run.id }, data: { lastSeq: seq } });
    await db.$disconnect();
    console.log("{}");
  `);
}

/** the run's step as the progress line shows it ("step N/M"), -1 before it shows one */
const progressStep = async (page: Page) =>
  Number(((await page.getByTestId("run-progress").textContent()) ?? "").match(/step (\d+)\//)?.[1] ?? -1);
const lossPoints = async (page: Page) =>
  Number((await page.getByTestId("chart-loss").getAttribute("data-points")) ?? 0);

let seeded: Seeded;
const tag = `${Date.now()}`;

test.beforeAll(() => {
  seeded = seedModelAndDataset(tag);
});

test("launch a run from the form, watch the loss curve grow and a folded sample, reload mid-run, cancel it", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  try {
    await launchWatchAndCancel(page);
  } finally {
    // a failed step must not leave the run training under the next tests
    const id = page.url().match(/\/runs\/(run_[0-9a-f]+)$/)?.[1];
    if (id) await request.post(`/api/runs/${id}/cancel`);
  }
});

async function launchWatchAndCancel(page: Page) {
  await page.goto("/runs/new");
  await page.getByLabel("Preset").selectOption("tiny-reasoning-demo");
  await page.getByLabel("Run name").fill(`e2e run ${tag}`);
  await page.getByLabel("Base model").selectOption(seeded.modelId);
  await page.getByLabel("Dataset version").selectOption(seeded.versionId);
  // long enough to watch (the native engine runs 20k of these steps in ~2 min), short steps: log
  // every step, sample often, checkpoint rarely
  await page.getByLabel("Max steps").fill("200000");
  await page.getByLabel("Per-device batch size").fill("8");
  await page.getByLabel("Logging steps").fill("1");
  await page.getByLabel("Eval strategy").selectOption("no");
  await page.getByLabel("Save steps").fill("100");
  await page.getByLabel("Sample every N steps").fill("15");
  await page.getByLabel("Max new tokens").fill("24");
  await page.getByLabel("Learning rate").fill("0.005");

  // inline validation with the shared schema, before anything is sent
  await page.getByLabel("Dropout").fill("2");
  await expect(page.getByText("dropout must be below 0.9")).toBeVisible();
  await page.getByLabel("Dropout").fill("0");
  await expect(page.getByText("dropout must be below 0.9")).toHaveCount(0);

  const summary = page.getByTestId("launch-summary");
  await expect(summary.getByTestId("summary-trainable")).not.toContainText("unknown");
  await expect(summary.getByTestId("summary-steps")).toContainText("200.0k");

  await page.getByRole("button", { name: "Launch run" }).click();
  await page.waitForURL(/\/runs\/run_[0-9a-f]+$/);
  const runUrl = page.url();
  await expect(page.getByTestId("run-name")).toHaveText(`e2e run ${tag}`);
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 60_000 });

  // the loss chart grows while the run trains
  await expect.poll(() => lossPoints(page), { timeout: 60_000 }).toBeGreaterThan(3);
  const before = await lossPoints(page);
  await expect.poll(() => lossPoints(page), { timeout: 30_000 }).toBeGreaterThan(before + 5);
  await expect(page.getByTestId("run-progress")).toContainText(/step \d+\/200000/);

  // a sample arrives with its reasoning folded (closed <details>)
  const sample = page.getByTestId("sample").first();
  await expect(sample).toBeVisible({ timeout: 90_000 });
  // new samples are prepended: the oldest one stays put while we click it
  const think = page.getByTestId("sample-think").last();
  await expect(think).toBeVisible({ timeout: 90_000 });
  expect(await think.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
  await think.locator("summary").click();
  expect(await think.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);

  // reload mid-run: the curve comes back and keeps growing
  const beforeReload = await lossPoints(page);
  await page.reload();
  await expect
    .poll(() => lossPoints(page), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(Math.min(beforeReload, 2000));
  // … and the run keeps going (its step: the chart holds at most 2000 points, which a fast engine
  // logging every step fills before this point)
  const afterReload = await progressStep(page);
  await expect.poll(() => progressStep(page), { timeout: 30_000 }).toBeGreaterThan(afterReload + 5);
  expect(page.url()).toBe(runUrl);

  // cancel from the run page: the worker stops the engine within a few seconds
  await page.getByRole("button", { name: "Cancel run" }).click();
  // cancelling asks first
  await page.getByRole("button", { name: "Yes, cancel the run" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("cancelled", { timeout: 30_000 });

  // clone it into the form: every field comes back
  await page.getByRole("link", { name: "Clone" }).click();
  await page.waitForURL(/\/runs\/new\?clone=run_/);
  await expect(page.getByLabel("Run name")).toHaveValue(`e2e run ${tag} (clone)`);
  await expect(page.getByLabel("Max steps")).toHaveValue("200000");
  await expect(page.getByLabel("Learning rate")).toHaveValue("0.005");
  await expect(page.getByLabel("Base model")).toHaveValue(seeded.modelId);
}

test("a waiting run shows its position in the queue and is cancelled from there", async ({
  page,
  request,
}) => {
  // an hf run waits: this stack has no GPU worker consuming the hf queue
  const res = await request.post("/api/runs", {
    data: {
      config: {
        name: `e2e waiting ${tag}`,
        engine: "hf",
        model: { id: "microsoft/Phi-3-mini-4k-instruct" },
        data: { datasetVersionId: seeded.versionId },
      },
    },
  });
  expect(res.status()).toBe(201);
  const { run } = await res.json();
  await page.goto("/queue");
  const row = page
    .getByTestId("queue-waiting")
    .getByTestId("queue-row")
    .filter({ hasText: `e2e waiting ${tag}` });
  await expect(row).toContainText(/#\d+/);
  await expect(row).toContainText("hf");
  await row.getByRole("button", { name: "Cancel" }).click();
  await expect(row).toHaveCount(0);
  const after = await (await request.get(`/api/runs/${run.id}`)).json();
  expect(after.run.status).toBe("cancelled");

  await page.goto("/runs");
  const listed = page.getByTestId("run-row").filter({ hasText: `e2e waiting ${tag}` });
  await expect(listed).toContainText("cancelled");

  // compare it with the run the first test trained: curves overlaid, configs diffed
  await listed.getByRole("checkbox").check();
  await page
    .getByTestId("run-row")
    .filter({ hasText: `e2e run ${tag}` })
    .getByRole("checkbox")
    .check();
  await page.getByRole("button", { name: /Compare/ }).click();
  await page.waitForURL(/\/runs\/compare\?ids=/);
  await expect(page.getByTestId("config-diff")).toContainText("engine");
  await expect(page.getByTestId("config-diff")).toContainText("hf");
  await expect
    .poll(async () => Number(await page.getByTestId("chart-compare-loss").getAttribute("data-points")))
    .toBeGreaterThan(3);
});

test("a sample's output is shown as text, never as HTML", async ({ page, request }) => {
  const res = await request.post("/api/runs", {
    data: {
      config: {
        name: `e2e xss ${tag}`,
        engine: "hf",
        model: { id: "org/some-model" },
        data: { datasetVersionId: seeded.versionId },
      },
    },
  });
  const { run } = await res.json();
  insertSample(
    run.id,
    '<think>is <b>this</b> bold?</think><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">',
  );
  await page.goto(`/runs/${run.id}`);
  const answer = page.getByTestId("sample-answer").first();
  await expect(answer).toContainText("<script>window.__pwned = 1</script>");
  await expect(page.getByTestId("sample-think").first()).toContainText("<b>this</b>");
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  await request.post(`/api/runs/${run.id}/cancel`);
});

test("an invalid config is refused with the field and the reason before anything is queued", async ({
  request,
}) => {
  const bad = await request.post("/api/runs", {
    data: {
      config: {
        model: { id: seeded.modelId },
        data: { datasetVersionId: seeded.versionId },
        training: { learningRate: -1 },
      },
    },
  });
  expect(bad.status()).toBe(400);
  expect(bad.headers()["content-type"]).toContain("application/problem+json");
  expect((await bad.json()).errors).toContainEqual({
    field: "body.config.training.learningRate",
    message: "learning rate must be positive",
  });

  const gone = await request.post("/api/runs", {
    data: { config: { model: { id: "mdl_does_not_exist" }, data: { datasetVersionId: seeded.versionId } } },
  });
  expect(gone.status()).toBe(422);
  expect((await gone.json()).errors[0].field).toBe("body.config.model.id");

  const noData = await request.post("/api/runs", {
    data: {
      config: {
        model: { id: seeded.modelId },
        data: { datasetVersionId: "dv_nope" },
        training: { maxSeqLength: 128 },
      },
    },
  });
  expect(noData.status()).toBe(422);
  expect((await noData.json()).errors[0].field).toBe("body.config.data.datasetVersionId");
});
