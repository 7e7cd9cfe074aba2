#!/usr/bin/env node
// The `distillery` command. Runs the TypeScript source through tsx (packages are consumed from
// source in this repository; see packages/cli/README.md).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tsx = require.resolve("tsx");
const result = spawnSync(
  process.execPath,
  ["--import", tsx, join(here, "../src/main.ts"), ...process.argv.slice(2)],
  {
    stdio: "inherit",
  },
);
process.exit(result.status ?? 1);
