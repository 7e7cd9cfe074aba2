import { defineConfig } from "vitest/config";

// Tests assert behaviour, never speed: the machines are shared, so no per-test time limit.
export default defineConfig({
  test: {
    testTimeout: 0,
    hookTimeout: 0,
  },
});
