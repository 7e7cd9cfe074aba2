import { createWriteStream, writeFileSync } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { expect, type Page, test } from "@playwright/test";

/** A small Magpie-shaped file: instruction/response with <think> inside, plus a reference column. */
function writeTraces(path: string, extraLines: string[] = []) {
  const rows = Array.from({ length: 24 }, (_, i) =>
    JSON.stringify({
      instruction: i === 7 ? "Find the unique-needle of 7 + 7." : `What is ${i} + ${i}?`,
      response: `<think>\nI add ${i} and ${i}, which gives ${2 * i}.\n</think>\n\nThe answer is \\boxed{${2 * i}}.`,
      expected: String(2 * i),
    }),
  );
  // one duplicated prompt, for the dedupe filter
  rows.push(rows[3] as string);
  writeFileSync(path, `${[...rows, ...extraLines].join("\n")}\n`);
}

async function uploadAndMap(page: Page, path: string, name: string) {
  await page.goto("/datasets/new");
  await page.getByLabel(/^File/).setInputFiles(path);
  await expect(page.getByTestId("upload-progress")).toHaveText("uploaded");
  await expect(page.getByTestId("upload-summary")).toContainText("Magpie");
  await page.getByLabel("Dataset name").fill(name);
}

test("upload traces, fix the mapping, see rendered rows and histograms, filter, split and pick the version for a run", async ({
  page,
}, testInfo) => {
  const file = testInfo.outputPath("magpie-traces.jsonl");
  writeTraces(file);
  const name = `e2e-traces-${Date.now()}`;
  await uploadAndMap(page, file, name);

  // the live preview renders each row with the chosen template, special tokens marked
  const preview = page.getByTestId("mapping-preview");
  await expect(preview.getByTestId("preview-row")).toHaveCount(5);
  await expect(preview.locator(".special-token").first()).toHaveText("<|user|>");
  await expect(preview.locator(".special-token", { hasText: "<think>" }).first()).toBeVisible();

  // break the mapping, see why, then fix it (and map the reference column detection missed)
  await page.getByLabel("Response (reasoning inside markers)").fill("");
  await expect(page.getByTestId("mapping-error")).toContainText(
    "map either a response column or an answer column",
  );
  await page.getByLabel("Response (reasoning inside markers)").fill("response");
  await page.getByLabel("Reference answer").fill("expected");
  await expect(page.getByTestId("mapping-error")).toHaveCount(0);
  await page.getByLabel("Chat template").selectOption("chatml");
  await expect(preview.locator(".special-token").first()).toHaveText("<|im_start|>");

  await page.getByRole("button", { name: "Start import" }).click();
  const job = page.getByTestId("dataset-job");
  await expect(job.getByTestId("job-status")).toHaveText("completed");
  await expect(job.getByTestId("job-outcome")).toContainText("Imported 25 rows");
  await job.getByTestId("job-version-link").click();

  // statistics
  await expect(page.getByTestId("version-title")).toContainText(`${name} v1`);
  await expect(page.getByTestId("stats-tokenizer")).toContainText(/Counted (with|in)/);
  await expect(page.getByTestId("histogram-total").locator(".recharts-bar-rectangle").first()).toBeVisible();
  await expect(page.getByTestId("think-validity")).toContainText("ok 25");
  await expect(page.getByTestId("answer-presence")).toContainText("present 25");
  await page.getByTestId("version-stats").getByLabel("Max length").fill("1");
  await expect(page.getByTestId("truncated")).toContainText("25 rows truncated");

  // row browser: search (the whole version is searched in one request), then render a row
  await page.getByLabel("Search rows").fill("unique-needle");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByTestId("rows-summary")).toHaveText("1 matching rows");
  await expect(page.getByTestId("search-more")).toHaveText("End of version");
  const row = page.getByTestId("browser-row");
  await expect(row).toHaveCount(1);
  await row.getByRole("button").click();
  await expect(row.getByTestId("rendered-example")).toContainText("unique-needle");
  await expect(row.locator(".special-token", { hasText: "</think>" })).toBeVisible();

  // filter: exact dedupe drops the repeated prompt → v2
  await page.getByLabel("Dedupe prompts").selectOption("exact");
  await page.getByRole("button", { name: "Apply filters" }).click();
  const filterJob = page.getByTestId("dataset-job");
  await expect(filterJob.getByTestId("job-status")).toHaveText("completed");
  await expect(filterJob).toContainText("dedupe 1");
  await filterJob.getByTestId("job-version-link").click();
  await expect(page.getByTestId("version-title")).toContainText(`${name} v2`);
  await expect(page.getByText("24 rows ·")).toBeVisible();

  // split 90/10 → train and test versions
  await page.getByRole("button", { name: "Split" }).click();
  const splitJob = page.getByTestId("dataset-job");
  await expect(splitJob.getByTestId("job-status")).toHaveText("completed");
  await expect(splitJob.getByTestId("job-version-link")).toHaveCount(2);
  await expect(splitJob.getByTestId("job-version-link").first()).toContainText("train, 22 rows");
  await splitJob.getByTestId("job-version-link").first().click();
  await expect(page.getByTestId("version-title")).toContainText(`${name} v3`);
  const trainUrl = page.url();
  const trainId = trainUrl.split("/versions/")[1] ?? "";

  // lineage on the dataset page
  await page.getByRole("link", { name }).click();
  const versions = page.getByTestId("version-row");
  await expect(versions).toHaveCount(4);
  await expect(page.getByTestId("versions-table")).toContainText("split train");
  await expect(page.getByTestId("versions-table")).toContainText("filter: exact dedupe");
  await page.goto("/datasets");
  await expect(page.getByTestId("dataset-row").filter({ hasText: name })).toContainText("4");

  // use it in a new run: the form opens with the new version already picked
  await page.goto(trainUrl);
  await page.getByTestId("use-in-run").click();
  await expect(page).toHaveURL(new RegExp(`/runs/new\\?datasetVersionId=${trainId}`));
  const picker = page.getByLabel("Dataset version");
  await expect(picker.locator(`option[value="${trainId}"]`)).toHaveText(new RegExp(`${name} v3`));
  await expect(picker).toHaveValue(trainId);
});

test("a malformed file under the reject policy fails with its file and line, and creates no version", async ({
  page,
  request,
}, testInfo) => {
  const file = testInfo.outputPath("broken-traces.jsonl");
  writeTraces(file, ['{"instruction": "cut off', JSON.stringify({ instruction: "x", response: "y" })]);
  const name = `e2e-broken-${Date.now()}`;
  await uploadAndMap(page, file, name);
  await page.getByLabel("Bad rows").selectOption("reject");
  await page.getByRole("button", { name: "Start import" }).click();
  const job = page.getByTestId("dataset-job");
  await expect(job.getByTestId("job-status")).toHaveText("failed");
  await expect(job.getByTestId("job-error")).toContainText("broken-traces.jsonl, line 26");
  const { datasets } = await (await request.get("/api/datasets")).json();
  const created = datasets.find((d: { name: string }) => d.name === name);
  expect(created?.versions ?? 0).toBe(0);
});

/**
 * 2M short Magpie rows (~1.2 GB of JSONL) gzipped to ~37 MB: quick to upload, and an import
 * that takes many seconds, so it is still running when Cancel is clicked (the worker checks
 * for the cancel every half second, between batches of 512 rows).
 */
async function writeLongImport(path: string) {
  const steps = Array.from({ length: 8 }, (_, i) => `Step ${i}: reconsider the sum and check each digit.`);
  function* lines() {
    for (let i = 0; i < 2_000_000; i += 1000) {
      let chunk = "";
      for (let j = i; j < i + 1000; j++)
        chunk += `${JSON.stringify({
          instruction: `What is ${j} + ${(j * 7) % 1000}? (${((j * 2654435761) >>> 0).toString(16)})`,
          response: `<think>\n${steps.join("\n")}\n</think>\n\nThe answer is ${j + ((j * 7) % 1000)}.`,
        })}\n`;
      yield chunk;
    }
  }
  await pipeline(Readable.from(lines()), createGzip({ level: 1 }), createWriteStream(path));
}

test("cancel an import while it runs: the job ends cancelled and no version or dataset is left", async ({
  page,
  request,
}, testInfo) => {
  const file = testInfo.outputPath("long-traces.jsonl.gz");
  await writeLongImport(file);
  const name = `e2e-cancel-${Date.now()}`;
  await uploadAndMap(page, file, name);
  await page.getByRole("button", { name: "Start import" }).click();
  const job = page.getByTestId("dataset-job");
  await expect(job.getByTestId("job-status")).toHaveText("active");
  await job.getByTestId("cancel-job").click();
  await expect(job.getByTestId("job-status")).toHaveText("cancelled");
  await expect(job.getByTestId("job-cancelled")).toContainText("no version was created");
  await expect(job.getByTestId("cancel-job")).toHaveCount(0);
  await expect(job.getByTestId("job-version-link")).toHaveCount(0);
  const { datasets } = await (await request.get("/api/datasets")).json();
  expect(datasets.find((d: { name: string }) => d.name === name)).toBeUndefined();
});
