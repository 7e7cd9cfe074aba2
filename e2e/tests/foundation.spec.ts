import { expect, test } from "@playwright/test";

test("the studio shows a worker online and carries an echo job through the worker", async ({ page }) => {
  // the echo job is a worker diagnostic: it lives on the Workers page, not the home page
  await page.goto("/workers");
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText("Workers");
  const online = page.getByTestId("workers-table").getByTestId("worker-row");
  await expect(online.first()).toContainText("online");
  await expect(online.first()).toContainText("local");

  const message = `hello from e2e ${Date.now()}`;
  await page.getByLabel("Echo message").fill(message);
  await page.getByRole("button", { name: "Send echo job" }).click();
  const row = page.getByTestId("job-row").filter({ hasText: message });
  await expect(row).toContainText("completed");
  await expect(row).toContainText([...message].reverse().join(""));
});

test("the workers page lists each worker's capabilities and last heartbeat", async ({ page }) => {
  await page.goto("/workers");
  const row = page.getByTestId("worker-row").first();
  await expect(row).toContainText("online");
  await expect(row).toContainText(/\d+ cores/);
  await expect(row).toContainText(/ago/);
});

test("an empty echo message is refused with the field named, in the UI and the API", async ({
  page,
  request,
}) => {
  await page.goto("/workers");
  await page.getByRole("button", { name: "Send echo job" }).click();
  await expect(page.getByText("type a message")).toBeVisible();

  const res = await request.post("/api/jobs/echo", { data: { message: "" } });
  expect(res.status()).toBe(400);
  expect(res.headers()["content-type"]).toContain("application/problem+json");
  const problem = await res.json();
  expect(problem.errors).toEqual([{ field: "body.message", message: "type a message" }]);
});

test("health reports the database and Redis", async ({ request }) => {
  const res = await request.get("/api/health");
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body.db.ok).toBe(true);
  expect(body.redis.ok).toBe(true);
});
