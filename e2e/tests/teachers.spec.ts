import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";

/**
 * A teacher end to end: a real local OpenAI-compatible endpoint (packages/teacher's fake teacher,
 * streaming reasoning_content) is added on the Teachers page and tested; a generation job runs
 * from a dataset version's page through the worker; its rows arrive on the live page; the
 * result version goes into a run.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLI = fileURLToPath(new URL("../../packages/teacher/src/testing/fake-teacher-cli.ts", import.meta.url));
let teacher: ChildProcess | undefined;
let baseUrl = "";

function runTs<T>(code: string): T {
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd: ROOT,
    env: process.env,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`seeding failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as T;
}

test.beforeAll(async () => {
  teacher = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      CLI,
      "--delay-ms",
      "300",
      "--chunk-interval-ms",
      "2",
      "--api-key",
      "sk-e2e-secret-key",
      // one prompt fails all its 5 tries (a failed row), then answers: "retry failed rows"
      "--fault",
      "500:5:What is 31 + 29?",
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: teacher?.stdout as NodeJS.ReadableStream }).once("line", resolve);
    teacher?.once("exit", (c) => reject(new Error(`fake teacher exited ${c}`)));
  });
  baseUrl = (JSON.parse(line) as { baseUrl: string }).baseUrl;
});
test.afterAll(() => {
  teacher?.kill("SIGTERM");
});

test("add a teacher, test it, generate from a version, watch the rows arrive, use the result in a run", async ({
  page,
}) => {
  const tag = Date.now().toString(36);
  const seeded = runTs<{ modelId: string; datasetId: string; versionId: string }>(`
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
    for (let i = 0; i < 16; i++) {
      const a = 10 + i * 7, b = 20 + i * 3;
      rows.push({ messages: [{ role: "user", content: "What is " + a + " + " + b + "?" }], reasoning: null, answer: String(a + b), think: "missing" });
    }
    const dir = join(mkdtempSync(join(tmpdir(), "e2e-teacher-")), "tiny");
    const corpus = rows.flatMap((r) => [r.messages[0].content, "We add the units, then the tens. The sum is " + r.answer + "."]);
    createTinyModel(dir, { corpus, vocabSize: 300, hiddenSize: 32, numLayers: 1, numHeads: 2, maxPositions: 256, seed: 5 });
    const model = await registerModelDir(db, store, { workspaceId, name: "e2e teacher tiny ${tag}", dir, engines: ["local"] });
    const ds = await ensureDataset(db, { workspaceId, name: "e2e prompts ${tag}" });
    const version = await createDatasetVersion(db, store, {
      workspaceId, datasetId: ds.id, operation: { kind: "e2e" }, schema: { template: "phi3" },
      write: async (sink) => { await sink.write(rows); return {}; },
    });
    await db.$disconnect();
    console.log(JSON.stringify({ modelId: model.id, datasetId: ds.id, versionId: version.id }));
  `);

  // add the teacher; it is tested at once
  await page.goto("/teachers");
  const form = page.getByTestId("add-teacher-form");
  await form.getByLabel("Name").fill(`E2E teacher ${tag}`);
  await form.getByLabel("Base URL").fill(baseUrl);
  await form.getByLabel("Model").fill("fake-r1");
  await form.getByLabel(/API key/).fill("sk-e2e-secret-key");
  await form.getByLabel("Price per 1M output tokens").fill("2");
  await page.getByTestId("add-teacher").click();
  const report = page.getByTestId("teacher-test-report");
  await expect(report).toContainText("connected");
  await expect(page.getByTestId("teacher-test-source")).toContainText("reasoning_content");
  await expect(page.getByTestId("teacher-test-latency")).toContainText(/\d+ ms/);
  await page.reload();
  await expect(page.getByTestId("teachers-table")).toContainText(`E2E teacher ${tag}`);
  expect(await page.content()).not.toContain("sk-e2e-secret-key");

  // generate from the version's page
  await page.goto(`/datasets/${seeded.datasetId}/versions/${seeded.versionId}`);
  await page.getByTestId("generate-with-teacher").click();
  await expect(page).toHaveURL(/\/generations\/new\?versionId=/);
  await page.getByLabel("Teacher").selectOption({ label: `E2E teacher ${tag} (fake-r1)` });
  await page.getByLabel("Reference answer column (optional)").selectOption("answer");
  await page.getByLabel("Concurrency").fill("1");
  await page.getByLabel("Result dataset name (optional)").fill(`e2e traces ${tag}`);
  await page.getByTestId("start-generation").click();
  await expect(page).toHaveURL(/\/generations\/gen_/);
  const jobUrl = page.url();

  // pause it: the team queue shows it next to runs; resume it from its page
  await page.getByTestId("pause-generation").click();
  await expect(page.getByTestId("generation-status")).toHaveText("paused", { timeout: 30_000 });
  await page.goto("/queue");
  const queued = page.getByTestId("queue-generation-row").filter({ hasText: `E2E teacher ${tag}` });
  await expect(queued).toContainText("paused");
  await page.goto(jobUrl);
  await page.getByTestId("resume-generation").click();

  // rows arrive while it runs, then it succeeds with every row verified
  await expect(page.getByTestId("generation-row").first()).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("generation-status")).toHaveText("succeeded", { timeout: 90_000 });
  await expect(page.getByTestId("generation-done")).toHaveText("16 / 16");
  // one row failed its 5 tries: retry failed rows asks for that one only
  await expect(page.getByTestId("generation-accepted")).toContainText("15 (94%)");
  await page.getByTestId("retry-failed-rows").click();
  await expect(page.getByTestId("generation-accepted")).toContainText("16 (100%)", { timeout: 90_000 });
  await expect(page.getByTestId("generation-status")).toHaveText("succeeded", { timeout: 30_000 });
  await expect(page.getByTestId("retry-failed-rows")).toHaveCount(0);
  const row = page.getByTestId("generation-row").first();
  await expect(row).toContainText("verified");
  await row.locator("summary").click();
  await expect(row.locator("pre").first()).toContainText("We add");

  // use the result in a new run
  await page.getByTestId("use-result-in-run").click();
  await expect(page).toHaveURL(/\/runs\/new\?datasetVersionId=dv_/);
  const resultVersion = new URL(page.url()).searchParams.get("datasetVersionId") ?? "";
  await page.getByLabel("Preset").selectOption("tiny-reasoning-demo");
  await page.getByLabel("Run name").fill(`e2e teacher run ${tag}`);
  await page.getByLabel("Base model").selectOption(seeded.modelId);
  await expect(page.getByLabel("Dataset version")).toHaveValue(resultVersion);
  await page.getByLabel("Max steps").fill("3");
  await page.getByLabel("Eval strategy").selectOption("no");
  await page.getByRole("button", { name: "Launch run" }).click();
  await expect(page.getByTestId("run-name")).toHaveText(`e2e teacher run ${tag}`);
  await expect(page.getByTestId("run-status")).toHaveText(/queued|running|succeeded/, { timeout: 60_000 });
});

test("a teacher URL that is not http(s), and a prompt column that does not exist, are refused before any request", async ({
  page,
}) => {
  await page.goto("/teachers");
  const form = page.getByTestId("add-teacher-form");
  await form.getByLabel("Name").fill("not a url");
  await form.getByLabel("Base URL").fill("file:///etc/passwd");
  await form.getByLabel("Model").fill("m");
  await page.getByTestId("add-teacher").click();
  await expect(form).toContainText("the base URL must be an http:// or https:// URL");

  await page.goto("/generations/new");
  await page.getByTestId("source-prompts").check();
  await page.getByTestId("prompts-text").fill('{"question": "What is 1 + 1?"}');
  await page.getByLabel("Prompt column").fill("prompt");
  await page.getByTestId("start-generation").click();
  await expect(page.getByTestId("prompt-column-error")).toHaveText(
    'prompt column "prompt" does not exist (columns: "question")',
  );
});
