import { defineConfig } from "vitest/config";

// Tests share the machine with other builds; slow is not wrong. Timeouts only catch hangs.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
