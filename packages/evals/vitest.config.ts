import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["../services/src/vitest-global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
