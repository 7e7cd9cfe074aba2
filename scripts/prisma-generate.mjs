#!/usr/bin/env node
// Runs `prisma generate` offline. Every Prisma 7 CLI command first tries to download a native
// schema engine; generate does not need it, so PRISMA_SCHEMA_ENGINE_BINARY=/bin/false is set for
// this command only (never /bin/true: `migrate deploy` would then report success and apply nothing).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const result = spawnSync(
  process.execPath,
  [join(root, "node_modules/prisma/build/index.js"), "generate", "--schema", "prisma/schema.prisma"],
  {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: "/bin/false",
      PRISMA_HIDE_UPDATE_MESSAGE: "1",
      CHECKPOINT_DISABLE: "1",
    },
  },
);
process.exit(result.status ?? 1);
