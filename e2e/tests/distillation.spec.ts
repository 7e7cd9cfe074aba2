import { expect, type Page, test } from "@playwright/test";
import { runTs } from "../fixtures/team.ts";

/**
 * Logit distillation end to end: the run form's Distillation section (mode, teacher picker with
 * the tokenizer check, the teacher's cost in the summary), the launch's refusal of a teacher of
 * another tokenizer at its field, and a logit-KD run on the CPU engine whose KD and CE curves
 * grow on the run page. Seeds its own tiny models and dataset through the real packages.
 */

interface Seeded {
  studentId: string;
  teacherId: string;
  strangerId: string;
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
    console.log(JSON.stringify({ studentId, teacherId, strangerId, versionId: version.id }));
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
