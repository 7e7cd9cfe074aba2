#!/usr/bin/env node
// Installs what is missing (npm deps, the Prisma client), then runs a TypeScript script with tsx.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureInstall, ensurePrismaClient } from "./ensure-install.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
ensureInstall(root);
ensurePrismaClient(root);
const [script, ...rest] = process.argv.slice(2);
const child = spawn(process.execPath, ["--import", "tsx", join(root, script), ...rest], {
  cwd: root,
  stdio: "inherit",
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
