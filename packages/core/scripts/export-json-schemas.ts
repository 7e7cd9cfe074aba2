// Writes the JSON Schemas the Python trainer validates against (packages/core/schemas/).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ZEngineEvent } from "../src/events.ts";
import { ZEngineJob, ZRunConfig } from "../src/run-config.ts";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "schemas");
mkdirSync(out, { recursive: true });
const write = (name: string, schema: z.ZodType, io: "input" | "output") =>
  writeFileSync(join(out, name), `${JSON.stringify(z.toJSONSchema(schema, { io }), null, 2)}\n`);
write("events.schema.json", ZEngineEvent, "output");
write("run-config.schema.json", ZRunConfig, "output");
write("engine-job.schema.json", ZEngineJob, "output");
console.log(`wrote JSON Schemas to ${out}`);
