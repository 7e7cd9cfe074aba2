import { writeFileSync } from "node:fs";
import { expect, type Page, test } from "@playwright/test";

/**
 * Datasets as they are published: Bespoke-Stratos (ShareGPT turns, a long system prompt on every
 * row, `<|begin_of_thought|>` / `<|begin_of_solution|>` markers) and s1K (the reasoning is the
 * first element of the `thinking_trajectories` list). Field names are the datasets' own.
 */
const STRATOS_SYSTEM = `Your role as an assistant involves thoroughly exploring questions through a systematic long thinking process before providing the final precise and accurate solutions. ${"Each step should include detailed considerations such as analysing questions, summarizing relevant findings, brainstorming new ideas, verifying the accuracy of the current steps, refining any errors, and revisiting previous steps. ".repeat(4)}Now, try to solve the following question through the above guidelines:`;

const stratosRow = (i: number) => ({
  system: STRATOS_SYSTEM,
  conversations: [
    { from: "user", value: `Return your final response within \\boxed{}. What is ${i} + ${i}?` },
    {
      from: "assistant",
      value: `<|begin_of_thought|>\n\nI add ${i} to itself: ${2 * i}.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\nThe sum is $\\boxed{${2 * i}}$.\n\n<|end_of_solution|>`,
    },
  ],
});

const s1kRow = (i: number) => ({
  solution: `${3 * i}`,
  question: `Compute ${i} times 3.`,
  cot_type: "math",
  source_type: "AI-MO/NuminaMath-CoT/aops_forum",
  metadata: "{'source': 'aops_forum'}",
  cot: null,
  thinking_trajectories: [`Three groups of ${i} make ${3 * i}.`],
  attempt: `The product is ${3 * i}.`,
});

const writeJsonl = (path: string, rows: unknown[]) =>
  writeFileSync(path, `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);

async function upload(page: Page, path: string, name: string) {
  await page.goto("/datasets/new");
  await page.getByLabel(/^File/).setInputFiles(path);
  await expect(page.getByTestId("upload-progress")).toHaveText("uploaded");
  await page.getByLabel("Dataset name").fill(name);
}

async function importAndOpen(page: Page) {
  await page.getByRole("button", { name: "Start import" }).click();
  const job = page.getByTestId("dataset-job");
  await expect(job.getByTestId("job-status")).toHaveText("completed");
  return job;
}

test("Stratos: thought and solution split, the shared system prompt shown once and dropped", async ({
  page,
  request,
}, testInfo) => {
  const file = testInfo.outputPath("stratos.jsonl");
  writeJsonl(
    file,
    Array.from({ length: 6 }, (_, i) => stratosRow(i + 1)),
  );
  await upload(page, file, `e2e-stratos-${Date.now()}`);
  await expect(page.getByTestId("detected-shape")).toHaveText("ShareGPT (conversations of from / value)");
  await expect(page.getByTestId("markers-field").getByLabel("Marker pair")).toHaveValue("thought-solution");
  const preview = page.getByTestId("mapping-preview");
  await expect(preview.getByTestId("preview-reasoning").first()).toHaveText("I add 1 to itself: 2.");
  await expect(preview.getByTestId("preview-answer").first()).toHaveText("The sum is $\\boxed{2}$.");

  const shared = page.getByTestId("shared-system-prompt");
  await expect(shared).toContainText("Every row has the same system prompt");
  await shared.getByLabel("Drop it").check();
  // dropping the system prompt is not a different shape
  await expect(page.getByTestId("mapping-shape")).toContainText("ShareGPT");

  const job = await importAndOpen(page);
  await expect(job.getByTestId("job-shape")).toHaveText("ShareGPT (conversations of from / value)");
  await job.getByTestId("job-version-link").click();
  await expect(page.getByTestId("version-shape")).toHaveText("ShareGPT (conversations of from / value)");
  await expect(page.getByTestId("think-validity")).toContainText("ok 6");

  const [, datasetId, versionId] = /\/datasets\/([^/]+)\/versions\/([^/?#]+)/.exec(page.url()) ?? [];
  const rows = await (await request.get(`/api/datasets/${datasetId}/versions/${versionId}/rows`)).json();
  const first = rows.rows[0].example;
  expect(first.reasoning).toBe("I add 1 to itself: 2.");
  expect(first.answer).toBe("The sum is $\\boxed{2}$.");
  expect(first.system).toBeUndefined();
});

test("s1K as published: the first trajectory is the reasoning, the attempt the answer", async ({
  page,
  request,
}, testInfo) => {
  const file = testInfo.outputPath("s1k.jsonl");
  writeJsonl(
    file,
    Array.from({ length: 5 }, (_, i) => s1kRow(i + 1)),
  );
  await upload(page, file, `e2e-s1k-${Date.now()}`);
  await expect(page.getByTestId("detected-shape")).toHaveText(
    "s1K (question / thinking_trajectories / attempt)",
  );
  await expect(page.getByLabel("Reasoning (own column)")).toHaveValue("thinking_trajectories[0]");
  const preview = page.getByTestId("mapping-preview");
  await expect(preview.getByTestId("preview-reasoning").first()).toHaveText("Three groups of 1 make 3.");
  await expect(preview.getByTestId("preview-answer").first()).toHaveText("The product is 3.");

  const job = await importAndOpen(page);
  await expect(job.getByTestId("job-shape")).toHaveText("s1K (question / thinking_trajectories / attempt)");
  await job.getByTestId("job-version-link").click();
  await expect(page.getByTestId("think-validity")).toContainText("separate column 5");
  const [, datasetId, versionId] = /\/datasets\/([^/]+)\/versions\/([^/?#]+)/.exec(page.url()) ?? [];
  const rows = await (await request.get(`/api/datasets/${datasetId}/versions/${versionId}/rows`)).json();
  expect(rows.rows[0].example).toMatchObject({
    messages: [{ role: "user", content: "Compute 1 times 3." }],
    reasoning: "Three groups of 1 make 3.",
    answer: "The product is 3.",
    reference: "3",
  });
});

test("no shape detected: nothing is guessed, the columns are shown, import waits for a mapping", async ({
  page,
}, testInfo) => {
  const file = testInfo.outputPath("unknown.jsonl");
  writeJsonl(
    file,
    Array.from({ length: 3 }, (_, i) => ({ solution: `sol ${i}`, query: `question ${i}`, notes: "n" })),
  );
  await upload(page, file, `e2e-unknown-${Date.now()}`);
  await expect(page.getByTestId("detected-shape")).toHaveText("none (map the columns)");
  await expect(page.getByTestId("mapping-ask")).toBeVisible();
  const overview = page.getByTestId("column-overview");
  await expect(overview.getByTestId("column-row")).toHaveCount(3);
  await expect(overview).toContainText("question 0");
  await expect(page.getByRole("button", { name: "Start import" })).toBeDisabled();
  await page.getByLabel("Prompt *").fill("query");
  await page.getByLabel("Answer", { exact: true }).fill("solution");
  await expect(page.getByTestId("mapping-preview").getByTestId("preview-answer").first()).toHaveText("sol 0");
  await expect(page.getByTestId("mapping-shape")).toContainText("custom");
  await expect(page.getByRole("button", { name: "Start import" })).toBeEnabled();
});
