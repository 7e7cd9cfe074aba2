import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { FIRST_START_RECORD } from "../fixtures/owner.ts";
import { joinByLink, seedDatasetVersion, waitingRunConfig } from "../fixtures/team.ts";

/**
 * Team roles end to end: the first start (global-setup went through /setup), an invitation by
 * link, a member launching a run, a viewer who sees it but cannot cancel it, and an admin of
 * another workspace who cannot see it at all.
 */
const tag = `${Date.now()}`;

test("the first visitor was led to /setup; now the owner exists, signed-out pages lead to sign-in", async ({
  browser,
  request,
}) => {
  expect(JSON.parse(readFileSync(FIRST_START_RECORD, "utf8")).landedOn).toBe("/setup");
  expect(await (await request.get("/api/setup")).json()).toMatchObject({ needsSetup: false });
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/datasets");
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fdatasets$/);
  await page.goto("/setup");
  await expect(page).toHaveURL(/\/sign-in$/);
  // a wrong password is refused with a clear message and no session
  await page.getByLabel("Email").fill("e2e-owner@example.com");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("form", { name: "Sign in" }).getByRole("alert")).toHaveText(
    "Wrong email or password.",
  );
  expect((await context.request.get("/api/me")).status()).toBe(401);
  await context.close();
});

test("invite a member who launches a run; a viewer sees it but cannot cancel it; another workspace cannot see it", async ({
  browser,
  page,
  request,
}) => {
  test.setTimeout(180_000);
  const versionId = seedDatasetVersion(`e2e team ${tag}`);

  // the owner makes a member invitation on the Team page
  await page.goto("/settings/team");
  const invite = page.getByRole("form", { name: "Invite" });
  await invite.getByLabel("Role").selectOption("member");
  await invite.getByRole("button", { name: "Create invitation link" }).click();
  const memberLink = (await page.getByTestId("invite-link").textContent()) ?? "";
  expect(memberLink).toContain("/invite/");
  const member = await joinByLink(browser, memberLink, {
    name: `Mia ${tag}`,
    email: `mia-${tag}@example.com`,
    password: "member password 1",
  });

  // the member launches a run; the run history shows who launched it
  const launched = await member.context.request.post("/api/runs", {
    data: waitingRunConfig(`team run ${tag}`, versionId),
  });
  expect(launched.status()).toBe(201);
  const { run } = await launched.json();
  await member.page.goto("/runs");
  await expect(member.page.getByText(`team run ${tag}`)).toBeVisible();
  await expect(member.page.getByRole("row", { name: new RegExp(`team run ${tag}`) })).toContainText(
    `Mia ${tag}`,
  );

  // the queue shows who launched it and why it waits; the owner (an admin) raises its priority
  await page.goto("/queue");
  const queued = page.getByTestId("queue-waiting").getByRole("row", { name: new RegExp(`team run ${tag}`) });
  await expect(queued).toContainText(`Mia ${tag}`);
  await expect(queued.getByTestId("wait-reason")).toHaveText(
    /^(next: waits for a free worker|behind \d+: .+)$/,
  );
  await queued.getByRole("button", { name: `Raise the priority of team run ${tag}` }).click();
  await expect(queued).toContainText("priority 1");
  expect((await (await request.get("/api/audit?action=run.priority")).json()).events[0]).toMatchObject({
    targetId: run.id,
    data: { from: 0, to: 1 },
  });

  // a viewer sees it and cannot cancel it
  const viewerInvite = await (await request.post("/api/invitations", { data: { role: "viewer" } })).json();
  const viewer = await joinByLink(browser, viewerInvite.url, {
    name: `Vic ${tag}`,
    email: `vic-${tag}@example.com`,
    password: "viewer password 1",
  });
  await viewer.page.goto(`/runs/${run.id}`);
  await expect(viewer.page.getByText(`team run ${tag}`).first()).toBeVisible();
  await viewer.page.goto("/queue");
  await expect(
    viewer.page.getByTestId("queue-waiting").getByRole("row", { name: new RegExp(`team run ${tag}`) }),
  ).toContainText(`Mia ${tag}`);
  await expect(viewer.page.getByRole("button", { name: /^Raise the priority/ })).toHaveCount(0);
  await expect(
    viewer.page
      .getByTestId("queue-waiting")
      .getByRole("row", { name: new RegExp(`team run ${tag}`) })
      .getByRole("button", { name: "Cancel" }),
  ).toHaveCount(0);
  const refused = await viewer.context.request.post(`/api/runs/${run.id}/cancel`);
  expect(refused.status()).toBe(403);
  expect((await (await request.get(`/api/runs/${run.id}`)).json()).run.status).toBe("queued");
  const viewerLaunch = await viewer.context.request.post("/api/runs", {
    data: waitingRunConfig(`viewer run ${tag}`, versionId),
  });
  expect(viewerLaunch.status()).toBe(403);

  // someone who is admin of another workspace only: their own workspace, removed from this one
  const otherInvite = await (await request.post("/api/invitations", { data: { role: "member" } })).json();
  const other = await joinByLink(browser, otherInvite.url, {
    name: `Oz ${tag}`,
    email: `oz-${tag}@example.com`,
    password: "other password 1",
  });
  const otherMe = await (await other.context.request.get("/api/me")).json();
  expect(
    (await other.context.request.post("/api/workspaces", { data: { name: `Oz's lab ${tag}` } })).status(),
  ).toBe(201);
  expect((await request.delete(`/api/members/${otherMe.user.id}`)).status()).toBe(204);
  expect((await (await other.context.request.get("/api/me")).json()).role).toBe("owner");
  expect((await other.context.request.get(`/api/runs/${run.id}`)).status()).toBe(404);
  expect((await other.context.request.post(`/api/runs/${run.id}/cancel`)).status()).toBe(404);
  const otherRuns = await (await other.context.request.get("/api/runs")).json();
  expect(JSON.stringify(otherRuns)).not.toContain(run.id);
  await other.page.goto("/runs");
  await expect(other.page.getByText(`team run ${tag}`)).toHaveCount(0);

  // the member cancels their own run; the audit log has the launch, the priority and the cancel
  expect((await member.context.request.post(`/api/runs/${run.id}/cancel`)).status()).toBe(200);
  const audit = await (await request.get("/api/audit?action=run.")).json();
  const actions = audit.events
    .filter((e: { targetId: string }) => e.targetId === run.id)
    .map((e: { action: string }) => e.action);
  expect(actions.sort()).toEqual(["run.cancel", "run.launch", "run.priority"]);
  for (const c of [member.context, viewer.context, other.context]) await c.close();
});

test("pages carry the security headers; a cross-site POST and a foreign Host are refused", async ({
  request,
  playwright,
  baseURL,
}) => {
  const page = await request.get("/runs");
  const csp = page.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
  expect(csp).not.toContain("unsafe-inline' 'strict");
  expect(page.headers()["x-content-type-options"]).toBe("nosniff");
  expect(page.headers()["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  const foreign = await request.post("/api/runs", {
    headers: { origin: "https://evil.example", "content-type": "text/plain" },
    data: JSON.stringify({ config: {} }),
  });
  expect(foreign.status()).toBe(403);
  const rebound = await playwright.request.newContext({
    baseURL,
    extraHTTPHeaders: { host: "attacker.example" },
  });
  expect((await rebound.get("/api/health")).status()).toBe(403);
  expect((await rebound.get("/runs")).status()).toBe(403);
  expect((await request.get("/api/health")).headers()["x-content-type-options"]).toBe("nosniff");
  await rebound.dispose();
  // an id whose percent-encoding is not UTF-8: Next's router would answer a plain-text 500 (proxy.ts)
  for (const res of [await request.get("/api/runs/%FF%FE"), await request.post("/api/runs/%FF%FE/cancel")]) {
    expect(res.status()).toBe(400);
    expect(res.headers()["content-type"]).toContain("application/problem+json");
    expect(((await res.json()) as { code: string }).code).toBe("bad_request");
  }
});
