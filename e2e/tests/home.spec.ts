import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";
import { OWNER_STATE } from "../fixtures/owner.ts";

/**
 * The home page of a workspace with nothing in it yet: three first steps, and no worker
 * diagnostics. The suite's own workspace is not empty (other specs seed it), so this spec makes a
 * new workspace with its owner and an API token, and the browser's API calls carry that token.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function seedEmptyWorkspace(tag: string): { token: string; workspaceId: string } {
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `
      import { createHash, randomBytes } from "node:crypto";
      import { createDb } from "@distillery/db";
      const db = createDb(process.env.E2E_DATABASE_URL);
      // the deployment id API tokens carry (made once per deployment, as the web app does)
      await db.setting.createMany({ data: [{ key: "deployment.id", value: randomBytes(4).toString("hex") }], skipDuplicates: true });
      const deployment = (await db.setting.findUniqueOrThrow({ where: { key: "deployment.id" } })).value;
      const workspaceId = "ws_empty_${tag}";
      await db.workspace.create({ data: { id: workspaceId, slug: "empty-${tag}", name: "Empty ${tag}" } });
      const user = await db.user.create({ data: { id: "usr_empty_${tag}", email: "empty-${tag}@example.com", name: "New user", workspaceId } });
      await db.membership.create({ data: { id: "mem_empty_${tag}", workspaceId, userId: user.id, role: "owner" } });
      const token = "dst_" + deployment + "_" + randomBytes(32).toString("base64url");
      await db.apiToken.create({ data: { id: "tok_empty_${tag}", workspaceId, userId: user.id, name: "e2e", scope: "write", tokenHash: createHash("sha256").update(token).digest("hex"), prefix: token.slice(0, 16) } });
      await db.$disconnect();
      console.log(JSON.stringify({ token, workspaceId }));
      `,
    ],
    { cwd: ROOT, env: process.env, encoding: "utf8", timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`seeding failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as { token: string; workspaceId: string };
}

test("a new workspace's home page shows the three first steps, not worker diagnostics", async ({
  browser,
}) => {
  const tag = Date.now().toString(36);
  const { token } = seedEmptyWorkspace(tag);
  // pages need the suite's signed-in session (the proxy checks the cookie); API calls carry the
  // new workspace's token, which the server resolves first
  const context = await browser.newContext({
    storageState: OWNER_STATE,
    extraHTTPHeaders: { authorization: `Bearer ${token}` },
  });
  const page = await context.newPage();
  await page.goto("/");
  const steps = page.getByTestId("first-steps");
  await expect(steps).toBeVisible();
  await expect(steps.getByTestId("first-step-demo")).toContainText("Watch the demo run");
  await expect(steps.getByTestId("first-step-dataset")).toContainText("Bring a dataset");
  await expect(steps.getByTestId("first-step-model")).toContainText("Add a model");
  await expect(page.getByTestId("home-running")).toContainText("Nothing is training right now");
  await expect(page.getByTestId("home-queue")).toContainText("No run is waiting");
  await expect(page.getByRole("button", { name: "Send echo job" })).toHaveCount(0);

  await steps.getByRole("link", { name: "Add a model" }).click();
  await page.waitForURL(/\/models$/);
  await expect(page.getByText("No models yet")).toBeVisible();
  await page.goBack();
  await steps.getByRole("link", { name: "Add a dataset" }).click();
  await page.waitForURL(/\/datasets\/new$/);
  await context.close();
});

test("a workspace with runs shows them on the home page with the queue", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("home-running")).toBeVisible();
  await expect(page.getByTestId("home-queue")).toBeVisible();
  await expect(page.getByTestId("home-recent")).toBeVisible();
});
