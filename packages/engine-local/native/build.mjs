// Builds the native kernels (native/build/Release/distillery_native.node) from source with the
// system compiler through node-gyp (which npm ships), at install and before tests/benches.
// Never fails: without a compiler, Node headers or Python the engine keeps its WebAssembly
// kernels, and this says so once. Nothing is downloaded: node-gyp gets the headers of the Node
// that runs it (--nodedir) and the build is skipped when they are not there.
// DISTILLERY_ENGINE_NATIVE_BUILD=0 skips it; `--force` rebuilds even when up to date.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, "build", "Release", "distillery_native.node");
const say = (msg) => console.log(`[engine-local] ${msg}`);
const fallback = (why) => {
  say(`native kernels not built (${why}); the engine uses its WebAssembly kernels`);
  process.exit(0);
};

if (process.env.DISTILLERY_ENGINE_NATIVE_BUILD === "0") fallback("DISTILLERY_ENGINE_NATIVE_BUILD=0");

const sources = [
  join(here, "binding.gyp"),
  ...readdirSync(join(here, "src")).map((f) => join(here, "src", f)),
];
const upToDate =
  existsSync(output) &&
  sources.every((s) => statSync(s).mtimeMs <= statSync(output).mtimeMs) &&
  !process.argv.includes("--force");
if (upToDate) process.exit(0);

/** node-gyp: the one npm gives its scripts, else the one inside the npm next to this Node */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(
      dirname(process.execPath),
      "..",
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    ),
    join(dirname(process.execPath), "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
  } catch {
    return null;
  }
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) fallback("node-gyp not found");
const nodeDir = join(dirname(process.execPath), "..");
if (!existsSync(join(nodeDir, "include", "node", "node_api.h")))
  fallback(`no Node headers under ${nodeDir}/include/node`);

say("building native kernels (node-gyp, system C++ compiler)…");
const r = spawnSync(process.execPath, [nodeGyp, "rebuild", `--nodedir=${nodeDir}`, "--loglevel=error"], {
  cwd: here,
  encoding: "utf8",
  timeout: 10 * 60_000,
});
if (r.status !== 0 || !existsSync(output)) {
  const tail = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
  if (tail) console.log(tail);
  fallback(r.error ? r.error.message : `node-gyp exited with ${r.status}`);
}
say(`native kernels built: ${output}`);
