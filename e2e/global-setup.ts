import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { chromium, type FullConfig } from "@playwright/test";
import { E2E_OWNER, FIRST_START_RECORD, OWNER_STATE } from "./fixtures/owner.ts";

/**
 * The first-start owner flow, as the first visitor lives it: any page leads to /setup, the owner
 * account is created there, and the studio opens signed in. The session is saved as the storage
 * state every spec starts from, so existing specs act as the signed-in owner. (A rerun against a
 * studio that has its owner signs in through the sign-in page instead.)
 */
export default async function globalSetup(config: FullConfig) {
  const use = config.projects[0]?.use ?? {};
  const baseURL = use.baseURL ?? "http://localhost:3000";
  const browser = await chromium.launch(use.launchOptions);
  const page = await browser.newPage({ baseURL });
  await page.goto("/runs");
  const landedOn = new URL(page.url()).pathname;
  if (landedOn === "/setup") {
    const form = page.getByRole("form", { name: "Create the owner account" });
    await form.getByLabel("Name").fill(E2E_OWNER.name);
    await form.getByLabel("Email").fill(E2E_OWNER.email);
    await form.getByLabel(/^Password/).fill(E2E_OWNER.password);
    await form.getByRole("button", { name: "Create owner and sign in" }).click();
  } else if (landedOn === "/sign-in") {
    await page.getByLabel("Email").fill(E2E_OWNER.email);
    await page.getByLabel("Password").fill(E2E_OWNER.password);
    await page.getByRole("button", { name: "Sign in" }).click();
  } else {
    throw new Error(`e2e: a signed-out visitor to /runs landed on ${landedOn}, not /setup or /sign-in`);
  }
  await page.waitForURL((url) => url.pathname === "/");
  await page.getByText(`${E2E_OWNER.name} · owner`).waitFor();
  mkdirSync(dirname(OWNER_STATE), { recursive: true });
  await page.context().storageState({ path: OWNER_STATE });
  writeFileSync(FIRST_START_RECORD, JSON.stringify({ landedOn }));
  await browser.close();
}
