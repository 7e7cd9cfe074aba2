// Installs npm dependencies when they are missing or older than package-lock.json.
// Plain Node with no dependencies: it runs before anything is installed.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";

export function ensureInstall(root) {
  const marker = join(root, "node_modules", ".package-lock.json");
  const lock = join(root, "package-lock.json");
  const isFresh =
    existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs);
  if (isFresh) return;
  console.log("[setup] installing npm dependencies (npm install)…");
  // onnxruntime-node's postinstall would download CUDA libraries (and fail offline): package.json's
  // allowScripts denies it; the variable covers an npm without allowScripts
  const r = spawnSync("npm", ["install", "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
  });
  if (r.status !== 0) {
    console.error("[setup] npm install failed; see above");
    process.exit(r.status ?? 1);
  }
}

// The Prisma client is generated (gitignored); everything that imports @distillery/db needs it,
// the stack scripts included, so it is made here, before any of them loads.
export function ensurePrismaClient(root) {
  const client = join(root, "packages/db/src/generated/prisma/client.ts");
  const schema = join(root, "prisma/schema.prisma");
  if (existsSync(client) && statSync(client).mtimeMs >= statSync(schema).mtimeMs) return;
  const r = spawnSync(process.execPath, [join(root, "scripts/prisma-generate.mjs")], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) {
    console.error("[setup] prisma generate failed; see above");
    process.exit(r.status ?? 1);
  }
}
