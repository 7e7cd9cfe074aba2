import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL(".", import.meta.url)) } },
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules", ".next"],
    // route tests act as the local owner unless they sign in (features/auth tests set "accounts")
    // (and answer the made-up host test requests use, http://x/, besides loopback names)
    env: { DISTILLERY_AUTH: "local", DISTILLERY_ALLOWED_HOSTS: "x" },
  },
});
