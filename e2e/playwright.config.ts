import { defineConfig } from "@playwright/test";
import { OWNER_STATE } from "./fixtures/owner.ts";

/**
 * The stack (services, web, worker) is started by `npm test` (scripts/stack/main.ts), which passes
 * BASE_URL. Browsers come from Debian (`apt-get install chromium`): Playwright's own download
 * cannot work offline.
 */
export default defineConfig({
  testDir: "./tests",
  // signs the owner in once; every spec starts signed in (specs of other roles use their own contexts)
  globalSetup: "./global-setup.ts",
  timeout: 120_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.BASE_URL ?? "http://localhost:3000",
    storageState: OWNER_STATE,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
