import { expect, test } from "@playwright/test";
import { runTs } from "../fixtures/team.ts";

/**
 * The end of the loop: the demo's base student and its distilled version (LoRA adapter on the
 * base), trained here with the demo pipeline, chatted with side by side in the playground and
 * evaluated on the held-out problems. The spec seeds what a finished demo leaves behind: the
 * base model in the catalog, a succeeded run with its adapter artifact in blob storage, and the
 * held-out set as a dataset version the run evaluates on.
 */

interface Seeded {
  baseName: string;
  runId: string;
  runName: string;
  problem: string;
  reference: string;
  baseAccuracy: number;
  distilledAccuracy: number;
}

function seedDemoStudents(tag: string): Seeded {
  return runTs<Seeded>(
    `
    import { cpSync, mkdtempSync } from "node:fs";
    import { tmpdir } from "node:os";
    import { join } from "node:path";
    import { createDatasetVersion, ensureDataset, registerModelDir } from "@distillery/catalog";
    import { readVersionRows } from "@distillery/datasets";
    import { createDb, createRun, ensureDefaultWorkspace, newId } from "@distillery/db";
    import { runDemoPipeline } from "@distillery/demo";
    import { createFsBlobStore } from "@distillery/storage";
    const db = createDb(process.env.E2E_DATABASE_URL);
    const blobs = join(process.env.DISTILLERY_DATA_DIR, "blobs");
    const store = createFsBlobStore(blobs);
    const { workspaceId } = await ensureDefaultWorkspace(db);
    const demo = await runDemoPipeline(mkdtempSync(join(tmpdir(), "e2e-demo-")), { heldoutSize: 24 });
    const baseName = "demo base ${tag}";
    const model = await registerModelDir(db, store, { workspaceId, name: baseName, dir: demo.dirs.baseModel, engines: ["local"] });
    const rows = [];
    for await (const row of readVersionRows(demo.plan.datasets.heldout.location)) rows.push(row);
    const ds = await ensureDataset(db, { workspaceId, name: "demo held-out ${tag}" });
    const version = await createDatasetVersion(db, store, {
      workspaceId, datasetId: ds.id, operation: { kind: "e2e" },
      write: async (sink) => { await sink.write(rows); return {}; },
    });
    const runName = "demo distilled ${tag}";
    const run = await createRun(db, {
      workspaceId, name: runName, engine: "local", modelId: model.id,
      config: { model: { id: baseName }, data: { template: "phi3" }, evaluation: { datasetVersionId: version.id, maxExamples: 24 } },
    });
    cpSync(demo.dirs.adapter, join(blobs, "runs", run.id, "artifacts", "adapter"), { recursive: true });
    await db.artifact.create({ data: { id: newId("art"), workspaceId, runId: run.id, kind: "adapter", name: "adapter", blobKey: "runs/" + run.id + "/artifacts/adapter" } });
    await db.run.update({ where: { id: run.id }, data: { status: "succeeded", finishedAt: new Date() } });
    // a problem the distilled student answers right and the base does not
    const i = demo.distilled.outputs.findIndex((o, j) => o.scores[0]?.isCorrect && !demo.base.outputs[j]?.scores[0]?.isCorrect);
    const problem = rows[Math.max(0, i)];
    await db.$disconnect();
    console.log(JSON.stringify({
      baseName, runId: run.id, runName,
      problem: problem.messages[0].content, reference: problem.reference ?? problem.answer,
      baseAccuracy: demo.base_accuracy, distilledAccuracy: demo.distilled_accuracy,
    }));
  `,
    1_800_000,
  );
}

let seeded: Seeded;
const tag = `${Date.now()}`;

test.describe.configure({ mode: "serial" });

test.beforeAll(() => {
  test.setTimeout(1_800_000);
  seeded = seedDemoStudents(tag);
});

test("playground: base and distilled side by side, the think part folds, the distilled one answers right", async ({
  page,
}) => {
  test.setTimeout(300_000);
  await page.goto("/playground");
  await page.getByLabel("Model 1").selectOption(seeded.baseName);
  await page.getByLabel("Model 2").selectOption(seeded.runId);
  await page.getByLabel("Temperature").fill("0");
  await page.getByLabel("Max tokens").fill("96");
  await page.getByRole("textbox", { name: "Message" }).fill(seeded.problem);
  await page.getByRole("button", { name: "Send" }).click();
  const base = page.getByTestId("column-0");
  const distilled = page.getByTestId("column-1");
  // both stream (models load on demand)
  await expect(base.getByTestId("answer")).not.toBeEmpty({ timeout: 180_000 });
  await expect(distilled.getByTestId("reply-stats")).toContainText("stop", { timeout: 180_000 });
  // the reasoning streamed in the think part, which folded when the answer began
  const think = distilled.getByTestId("think");
  await expect(think).toBeVisible();
  await expect(think).not.toHaveAttribute("open", "");
  await expect(distilled.getByTestId("answer")).toContainText(`\\boxed{${seeded.reference}}`);
  await expect(distilled.getByTestId("reply-stats")).toContainText("tok/s");
  // saved in the workspace: it opens again from its link
  await expect(page).toHaveURL(/\/playground\?c=conv_/, { timeout: 30_000 });
  await page.reload();
  await expect(page.getByTestId("column-1").getByTestId("answer")).toContainText(
    `\\boxed{${seeded.reference}}`,
  );
  // the prompt each model sees, its special tokens highlighted
  await page.getByLabel("Show the rendered prompt").check();
  const rendered = page.getByTestId("column-1").getByTestId("rendered-prompt");
  await expect(rendered).toContainText(seeded.problem);
  await expect(rendered.locator("mark").first()).toBeVisible();
  // regenerate asks again: greedy, so the same right answer, and no error
  await page.getByRole("button", { name: "Regenerate" }).click();
  await expect(page.getByTestId("column-1").getByTestId("answer")).toContainText(
    `\\boxed{${seeded.reference}}`,
    { timeout: 120_000 },
  );
  await expect(page.getByRole("button", { name: "Regenerate" })).toBeEnabled({ timeout: 120_000 });
  await expect(page.getByTestId("column-1").getByRole("alert")).toHaveCount(0);
});

test("evaluate base and distilled on the held-out set, then the side-by-side table filtered to fixed by distillation", async ({
  page,
}) => {
  test.setTimeout(900_000);
  await page.goto("/evaluations");
  const form = page.getByRole("region", { name: "New evaluation" });
  await form.getByLabel(`model ${seeded.baseName}`).check();
  await form.getByLabel(`model ${seeded.runName}`).check();
  await form.getByLabel("Eval set kind").selectOption("run-heldout");
  await form.getByLabel("Run held-out set").selectOption(seeded.runId);
  await form.getByLabel("Max tokens").fill("96");
  await form.getByRole("button", { name: /Evaluate/ }).click();
  const table = page.getByRole("table", { name: "Evaluations" });
  const ours = table.getByRole("row").filter({ hasText: `${seeded.runName} held-out` });
  await expect(ours).toHaveCount(2);
  // progress is live; both finish
  await expect(ours.filter({ hasText: "succeeded" })).toHaveCount(2, { timeout: 840_000 });
  await page.getByRole("link", { name: /Compare selected \(2\)/ }).click();
  await expect(page.getByRole("table", { name: "Metrics" })).toContainText("Accuracy");
  await expect(page.getByRole("region", { name: "Accuracy by reasoning length" })).toBeVisible();
  await page.getByRole("button", { name: /Fixed by distillation/ }).click();
  const examples = page.getByRole("table", { name: "Examples" });
  await expect(examples.getByRole("row")).not.toHaveCount(1);
  // in every fixed row the base is wrong and the distilled student right
  await expect(examples.getByRole("row").nth(1).getByText("wrong", { exact: true })).toBeVisible();
  await expect(examples.getByRole("row").nth(1).getByText("correct", { exact: true })).toBeVisible();
});
