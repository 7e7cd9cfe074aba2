import { expect, type Page, test } from "@playwright/test";
import { runTs } from "../fixtures/team.ts";

/**
 * Logit distillation end to end: the run form's Distillation section (mode, teacher picker with
 * the tokenizer check, the teacher's cost in the summary), the launch's refusal of a teacher of
 * another tokenizer at its field, and a logit-KD run on the CPU engine whose KD and CE curves
 * grow on the run page; then stored teacher logits: computed by the worker, picked in the form
 * (an unready one disabled with the launch's reason), named on the run page, and deleted from
 * the version page (refused while the run reads them). Seeds its own tiny models and dataset
 * through the real packages.
 */

interface Seeded {
  studentId: string;
  teacherId: string;
  strangerId: string;
  datasetId: string;
  versionId: string;
}

/**
 * A tiny student and a wider, deeper teacher with the same BPE tokenizer (the same corpus, the
 * <think> tags as special tokens in both, as one model family has them), a stranger whose
 * tokenizer differs, and an arithmetic R1-style dataset.
 */
function seed(tag: string): Seeded {
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
      });
    }
    const corpus = rows.flatMap((r) => [r.messages[0].content, r.reasoning, r.answer]);
    const make = async (name, opts) => {
      const dir = join(mkdtempSync(join(tmpdir(), "e2e-kd-")), name);
      createTinyModel(dir, {
        corpus, vocabSize: 400, hiddenSize: 64, numLayers: 2, numHeads: 4, maxPositions: 256, seed: 3,
        extraSpecialTokens: ["<think>", "</think>"], ...opts,
      });
      const m = await registerModelDir(db, store, { workspaceId, name: name + " ${tag}", dir, engines: ["local"] });
      return m.id;
    };
    const studentId = await make("kd student", {});
    const teacherId = await make("kd teacher", { hiddenSize: 96, numLayers: 3, seed: 5 });
    const strangerId = await make("kd stranger", { corpus: corpus.map((c) => c.toUpperCase()), vocabSize: 300 });
    const ds = await ensureDataset(db, { workspaceId, name: "e2e kd sums ${tag}" });
    const version = await createDatasetVersion(db, store, {
      workspaceId, datasetId: ds.id, operation: { kind: "e2e" },
      write: async (sink) => { await sink.write(rows); return {}; },
    });
    await db.$disconnect();
    console.log(JSON.stringify({ studentId, teacherId, strangerId, datasetId: ds.id, versionId: version.id }));
  `);
}

const points = async (page: Page, chart: string) =>
  Number((await page.getByTestId(`chart-${chart}`).getAttribute("data-points")) ?? 0);

let seeded: Seeded;
const tag = `${Date.now()}`;

test.beforeAll(() => {
  seeded = seed(tag);
});

test("distill: pick a student and a teacher, a teacher of another tokenizer is refused at its field, a logit-KD run grows its KD and CE curves", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  try {
    await distill(page);
  } finally {
    const id = page.url().match(/\/runs\/(run_[0-9a-f]+)$/)?.[1];
    if (id) await request.post(`/api/runs/${id}/cancel`);
  }
});

async function distill(page: Page) {
  await page.goto("/runs/new");
  await page.getByLabel("Preset").selectOption("tiny-reasoning-demo");
  await page.getByLabel("Run name").fill(`e2e kd ${tag}`);
  await page.getByLabel("Base model").selectOption(seeded.studentId);
  await page.getByLabel("Dataset version").selectOption(seeded.versionId);
  await page.getByLabel("Max steps").fill("20000");
  await page.getByLabel("Per-device batch size").fill("8");
  await page.getByLabel("Logging steps").fill("1");
  await page.getByLabel("Eval strategy").selectOption("no");
  await page.getByLabel("Save steps").fill("1000");
  await page.getByLabel("Sample every N steps").fill("1000");
  await page.getByLabel("Learning rate").fill("0.005");

  // sft shows no teacher and no loss parameters; logit shows the teacher and its loss's fields
  const section = page.getByTestId("distillation-section");
  await expect(section.getByLabel("Teacher model")).toHaveCount(0);
  await page.getByLabel("Distillation mode").selectOption("logit");
  await expect(section.getByLabel("Teacher model")).toBeVisible();
  await expect(section.getByLabel("KD temperature")).toHaveValue("1");
  await expect(section.getByLabel("Divergence (beta)")).toBeVisible();
  await expect(section.getByLabel("On-policy share (lmbda)")).toHaveCount(0);

  // the picker says which models share the student's tokenizer before anything is sent
  const teacherSelect = section.getByLabel("Teacher model");
  await expect(teacherSelect.locator(`option[value="${seeded.teacherId}"]`)).toContainText("same tokenizer");
  await expect(teacherSelect.locator(`option[value="${seeded.strangerId}"]`)).toContainText(
    "different tokenizer",
  );

  // a teacher of another tokenizer: the launch refuses it, and the reason lands at the field
  await teacherSelect.selectOption(seeded.strangerId);
  await expect(page.getByTestId("teacher-tokenizer")).toContainText("have different tokenizers");
  await page.getByRole("button", { name: "Launch run" }).click();
  const fieldError = page.getByTestId("error-Teacher model");
  await expect(fieldError).toContainText(
    `the student (kd student ${tag}) and the teacher (kd stranger ${tag}) have different tokenizers: id`,
  );
  await expect(page.getByTestId("launch-error")).toContainText("different tokenizers");
  expect(page.url()).toMatch(/\/runs\/new$/);

  // the teacher of the same tokenizer: the field error clears, the summary shows its cost
  await teacherSelect.selectOption(seeded.teacherId);
  await expect(fieldError).toHaveCount(0);
  await expect(page.getByTestId("teacher-tokenizer")).toHaveText(/same tokenizer as the student/);
  const teacherCost = page.getByTestId("summary-teacher");
  await expect(teacherCost).toContainText(`kd teacher ${tag}:`);
  await expect(teacherCost).toContainText(
    /parameters, [\d.]+ [KM]iB of weights \(float32 on the CPU worker\)/,
  );
  await expect(teacherCost).toContainText(/student [\d.]+k parameters/);

  await page.getByRole("button", { name: "Launch run" }).click();
  await page.waitForURL(/\/runs\/run_[0-9a-f]+$/);
  await expect(page.getByTestId("run-name")).toHaveText(`e2e kd ${tag}`);
  await expect(page.getByTestId("run-distillation")).toHaveText(
    `logit distillation from ${seeded.teacherId}`,
  );
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 60_000 });

  // the KD and CE curves (one chart) grow while it trains; top-1 agreement is charted too
  await expect.poll(() => points(page, "distill_loss"), { timeout: 90_000 }).toBeGreaterThan(6);
  const before = await points(page, "distill_loss");
  await expect.poll(() => points(page, "distill_loss"), { timeout: 60_000 }).toBeGreaterThan(before + 6);
  const chart = page.getByTestId("chart-distill_loss");
  await expect(chart).toContainText("KD and CE loss");
  await expect(chart.locator(".recharts-legend-wrapper")).toContainText("KD loss");
  await expect(chart.locator(".recharts-legend-wrapper")).toContainText("CE loss");
  await expect.poll(() => points(page, "top1_agreement")).toBeGreaterThan(0);
  // on-policy's sampled length is not charted for a logit run
  await expect(page.getByTestId("chart-sampled_length")).toHaveCount(0);

  await page.getByRole("button", { name: "Cancel run" }).click();
  await page.getByRole("button", { name: "Yes, cancel the run" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("cancelled", { timeout: 30_000 });
}

interface ArtifactView {
  id: string;
  status: string;
}

test("stored teacher logits: pick a ready artifact (an unready one is disabled), the run names it; Delete is refused while the run reads it, then deletes", async ({
  page,
  request,
}) => {
  test.setTimeout(300_000);
  const base = `/api/dataset-versions/${seeded.versionId}/teacher-logits`;
  const status = async (id: string) => {
    const { artifacts } = (await (await request.get(base)).json()) as { artifacts: ArtifactView[] };
    return artifacts.find((a) => a.id === id)?.status ?? "gone";
  };
  const estimate = async () => {
    const res = await request.post(base, {
      data: { teacherModelId: seeded.teacherId, k: 20, maxSeqLength: 256, template: "phi3" },
    });
    expect(res.status()).toBe(200);
    return ((await res.json()) as { artifact: ArtifactView }).artifact.id;
  };
  // the panel's own routes and the real worker: estimate, then compute
  const ready = await estimate();
  await expect.poll(() => status(ready), { timeout: 120_000 }).toBe("estimated");
  expect((await request.post(`${base}/${ready}`, { data: { action: "compute" } })).status()).toBe(200);
  await expect.poll(() => status(ready), { timeout: 120_000 }).toBe("ready");
  const unready = await estimate(); // estimated at most: never computed

  await page.goto("/runs/new");
  await page.getByLabel("Preset").selectOption("tiny-reasoning-demo");
  await page.getByLabel("Run name").fill(`e2e stored kd ${tag}`);
  await page.getByLabel("Base model").selectOption(seeded.studentId);
  await page.getByLabel("Dataset version").selectOption(seeded.versionId);
  await page.getByLabel("Max steps").fill("20000");
  await page.getByLabel("Eval strategy").selectOption("no");
  await page.getByLabel("Distillation mode").selectOption("logit");
  await page.getByTestId("distillation-section").getByLabel("Teacher model").selectOption(seeded.teacherId);
  const picker = page.getByTestId("teacher-logits-picker");
  const readyRadio = picker.getByRole("radio", { name: new RegExp(ready) });
  const unreadyRadio = picker.getByRole("radio", { name: new RegExp(unready) });
  await expect(readyRadio).toBeEnabled();
  await expect(unreadyRadio).toBeDisabled();
  await expect(picker.getByTestId("teacher-logits-choice").filter({ hasText: unready })).toContainText(
    `teacher logits ${unready} are`,
  );
  await expect(picker.getByTestId("teacher-logits-choice").filter({ hasText: unready })).toContainText(
    "not ready",
  );
  await readyRadio.check();
  // the summary shows the artifact the run reads, not the teacher it no longer loads
  await expect(page.getByTestId("summary-teacher")).toContainText(`stored teacher logits ${ready}`);
  await expect(page.getByTestId("summary-teacher")).toContainText(
    / \d+(\.\d)? (B|KiB|MiB) read from storage/,
  );
  await expect(page.getByTestId("summary-teacher")).toContainText("no teacher memory");
  await expect(page.getByTestId("summary-teacher")).not.toContainText("of weights");
  await page.getByRole("button", { name: "Launch run" }).click();
  await page.waitForURL(/\/runs\/run_[0-9a-f]+$/);
  const runId = page.url().match(/\/runs\/(run_[0-9a-f]+)$/)?.[1] as string;
  try {
    await expect(page.getByTestId("run-distillation")).toHaveText(
      `logit distillation from ${seeded.teacherId}, stored teacher logits ${ready}`,
    );
    await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 60_000 });

    // Delete on the version page: refused while the run reads the artifact, naming the run
    await page.goto(`/datasets/${seeded.datasetId}/versions/${seeded.versionId}`);
    const row = page.getByTestId("teacher-logits-row").filter({ hasText: ready });
    page.once("dialog", (d) => d.accept());
    await row.getByRole("button", { name: "Delete" }).click();
    await expect(page.getByTestId("teacher-logits-delete-error")).toContainText(
      `read by run e2e stored kd ${tag}`,
    );
    await expect(row).toContainText("ready");
  } finally {
    await request.post(`/api/runs/${runId}/cancel`);
  }
  await expect
    .poll(
      async () =>
        ((await (await request.get(`/api/runs/${runId}`)).json()) as { run: { status: string } }).run.status,
      {
        timeout: 60_000,
      },
    )
    .toBe("cancelled");
  const row = page.getByTestId("teacher-logits-row").filter({ hasText: ready });
  page.once("dialog", (d) => d.accept());
  await row.getByRole("button", { name: "Delete" }).click();
  await expect(row).toHaveCount(0);
  expect(await status(ready)).toBe("gone");
});

test("demo:kd --studio runs: the compare view overlays their held-out accuracy, KD loss, CE loss and top-1 agreement", async ({
  page,
}) => {
  // the recorder demo:kd --studio calls, with a short SFT / logit / on-policy comparison's events
  const { ids } = runTs<{ ids: string[] }>(`
    import { ZRunConfig } from "@distillery/core";
    import { createDb } from "@distillery/db";
    import { recordKdRuns } from "./packages/demo/src/record-kd-runs.ts";
    const db = createDb(process.env.E2E_DATABASE_URL);
    const config = (distillation) =>
      ZRunConfig.parse({ model: { id: "distillery/tiny-arith-student" }, data: { datasetVersionId: "demo-arith-traces" }, distillation });
    const steps = [10, 20, 30, 40];
    const run = (mode, distillation, acc, kd) => {
      const metrics = steps.map((step, i) => ({
        type: "metric", runId: "kd", seq: i, ts: Date.now(), step,
        values: { loss: 2 - i * 0.3, ...(kd ? { kd_loss: 1 - i * 0.2, ce_loss: 2.2 - i * 0.3, top1_agreement: 0.3 + i * 0.15 } : {}) },
      }));
      const points = [20, 40].map((step, i) => ({ step, accuracy: acc[i] }));
      const curve = { points, steps_to_90: null, final_accuracy: acc[1], last_metrics: {}, wall_s: 1, config: config(distillation) };
      return { mode, config: config(distillation), metrics, curve };
    };
    const ids = await recordKdRuns(db, [
      run("sft", { mode: "sft" }, [0.2, 0.4], false),
      run("logit", { mode: "logit", teacher: { modelId: "demo-teacher" }, temperature: 4 }, [0.4, 0.9], true),
      run("on_policy", { mode: "on-policy", teacher: { modelId: "demo-teacher" }, beta: 1 }, [0.1, 0.2], true),
    ], { label: "e2e ${tag}" });
    await db.$disconnect();
    console.log(JSON.stringify({ ids }));
  `);
  await page.goto(`/runs/compare?ids=${ids.join(",")}`);
  const legend = (metric: string) =>
    page.getByTestId(`chart-compare-${metric}`).locator(".recharts-legend-wrapper");
  await expect(page.getByTestId("chart-compare-heldout_accuracy")).toHaveAttribute("data-points", "6");
  for (const mode of ["sft", "logit", "on_policy"])
    await expect(legend("heldout_accuracy")).toContainText(`demo:kd ${mode} · e2e ${tag}`);
  // the distillation series only for the two runs that have them
  for (const metric of ["kd_loss", "ce_loss", "top1_agreement"]) {
    await expect(page.getByTestId(`chart-compare-${metric}`)).toHaveAttribute("data-points", "8");
    await expect(legend(metric)).not.toContainText("demo:kd sft");
  }
});

test("teacher logits from an endpoint: the studio's own /v1 serving the teacher computes the artifact from the version page; an endpoint of another tokenizer is refused naming both", async ({
  page,
  request,
  baseURL,
}) => {
  test.setTimeout(300_000);
  // the studio serves the catalog's models on /v1 (prompt_logprobs, /v1/tokenize) to a read token
  const token = (await (
    await request.post("/api/tokens", {
      data: { name: `kd endpoint ${tag}`, scope: "read", expiresInDays: 1 },
    })
  ).json()) as { id: string; token: string };
  const addEndpoint = async (name: string, model: string) => {
    const res = await request.post("/api/teachers", {
      data: { name, api: "openai", baseUrl: `${baseURL}/v1`, model, apiKey: token.token },
    });
    expect(res.status()).toBeLessThan(300);
  };
  // the studio's /v1 names a catalog model by its name
  await addEndpoint(`served teacher ${tag}`, `kd teacher ${tag}`);
  await addEndpoint(`served stranger ${tag}`, `kd stranger ${tag}`);

  await page.goto(`/datasets/${seeded.datasetId}/versions/${seeded.versionId}`);
  const panel = page.getByTestId("teacher-logits");
  // an endpoint of another tokenizer: refused before anything is queued, naming both and the token
  await panel
    .getByLabel("Teacher")
    .selectOption({ label: `endpoint · served stranger ${tag} (kd stranger ${tag})` });
  await panel.getByLabel("Tokenizer of").selectOption(seeded.studentId);
  await expect(panel.getByTestId("teacher-logits-endpoint-hint")).toContainText("scoring rate is unknown");
  await panel.getByRole("button", { name: "Estimate" }).click();
  await expect(panel.getByTestId("teacher-logits-estimate-error")).toHaveText(
    new RegExp(
      `^the student \\(kd student ${tag}\\) and the teacher \\(endpoint "served stranger ${tag}", model kd stranger ${tag}\\) have different tokenizers: token \\d+ of the probe text is id \\d+ .* in the student and id \\d+ .* in the teacher$`,
    ),
  );
  await expect(panel.getByTestId("teacher-logits-row").filter({ hasText: "served stranger" })).toHaveCount(0);

  // the same tokenizer: estimated from one timed request, computed by the worker through the endpoint
  await panel
    .getByLabel("Teacher")
    .selectOption({ label: `endpoint · served teacher ${tag} (kd teacher ${tag})` });
  await panel.getByLabel("Top-k").fill("4");
  await panel.getByLabel("Max length (tokens)").fill("64");
  await panel.getByRole("button", { name: "Estimate" }).click();
  const row = panel.getByTestId("teacher-logits-row").filter({ hasText: `endpoint served teacher ${tag}` });
  await expect(row.getByTestId("teacher-logits-status")).toContainText(
    /^estimate: [\d.]+ (KiB|MiB), about .+ at the endpoint's measured [\d,]+ positions\/s for [\d,]+ positions of [\d,]+ rows$/,
    { timeout: 120_000 },
  );
  await expect(panel.getByTestId("teacher-logits-endpoint-hint")).toContainText("Measured scoring rate");
  const estimated = await row.getByTestId("teacher-logits-status").textContent();
  await row.getByRole("button", { name: "Compute" }).click();
  await expect(row.getByTestId("teacher-logits-status")).toContainText(/^ready: /, { timeout: 180_000 });
  // the estimate next to what was measured, for the record
  console.log(
    `[endpoint teacher logits] ${estimated} | ${await row.getByTestId("teacher-logits-status").textContent()}`,
  );
  await request.delete(`/api/tokens/${token.id}`);
});
