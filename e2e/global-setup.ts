import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { request } from "@playwright/test";
import { E2E_OWNER, OWNER_STATE } from "./fixtures/owner.ts";

/**
 * First start for the suite: creates the owner (or signs in when a previous run did) and saves
 * the session cookie as the storage state every spec starts from, so existing specs act as a
 * signed-in owner of the default workspace.
 */
export default async function globalSetup() {
  const baseURL = process.env.BASE_URL ?? "http://localhost:3000";
  const ctx = await request.newContext({ baseURL, extraHTTPHeaders: { origin: new URL(baseURL).origin } });
  const setup = await ctx.post("/api/setup", { data: E2E_OWNER });
  if (setup.status() !== 201) {
    const signIn = await ctx.post("/api/auth/sign-in/email", {
      data: { email: E2E_OWNER.email, password: E2E_OWNER.password },
    });
    if (!signIn.ok())
      throw new Error(
        `e2e: cannot create or sign in the owner: ${setup.status()} ${await setup.text()} / ${signIn.status()} ${await signIn.text()}`,
      );
  }
  mkdirSync(dirname(OWNER_STATE), { recursive: true });
  await ctx.storageState({ path: OWNER_STATE });
  await ctx.dispose();
}
