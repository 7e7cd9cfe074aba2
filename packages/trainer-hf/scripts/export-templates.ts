// Writes python/distillery_trainer/builtin_templates.json from core's built-in chat templates.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { builtinTemplatesJson } from "../src/builtin-templates-json.ts";

const out = join(
  dirname(fileURLToPath(import.meta.url)),
  "../python/distillery_trainer/builtin_templates.json",
);
writeFileSync(out, builtinTemplatesJson());
console.log(`wrote ${out}`);
