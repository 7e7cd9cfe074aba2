// Writes the JSON Schemas the Python trainer validates against (packages/core/schemas/).
// src/json-schemas.test.ts fails when the committed files differ from what this writes.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderJsonSchemas } from "../src/json-schemas.ts";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "schemas");
mkdirSync(out, { recursive: true });
for (const [name, text] of Object.entries(renderJsonSchemas())) writeFileSync(join(out, name), text);
console.log(`wrote JSON Schemas to ${out}`);
