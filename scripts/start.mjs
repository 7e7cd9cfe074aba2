#!/usr/bin/env node
// `npm start`: install what is missing, then run the stack (services, migrations, build, web, worker).
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureInstall, ensurePrismaClient } from "./ensure-install.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
ensureInstall(root);
ensurePrismaClient(root);
const child = spawn(
  process.execPath,
  ["--import", "tsx", join(root, "scripts/stack/main.ts"), "start", ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
  },
);
// the stack handles Ctrl-C itself (the terminal signals the whole group): just wait for it
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
