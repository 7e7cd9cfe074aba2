import { z } from "zod";
import { ZEngineEvent } from "./events.ts";
import { ZEngineJob, ZRunConfig } from "./run-config.ts";

/**
 * The JSON Schemas the Python trainer validates against, by file name under schemas/. Output
 * mode: defaults are filled by then, and objects forbid unknown properties. Refinements do not
 * carry over (the trainer repeats the ones it needs).
 */
export function renderJsonSchemas(): Record<string, string> {
  const render = (schema: z.ZodType) =>
    `${JSON.stringify(z.toJSONSchema(schema, { io: "output" }), null, 2)}\n`;
  return {
    "events.schema.json": render(ZEngineEvent),
    "run-config.schema.json": render(ZRunConfig),
    "engine-job.schema.json": render(ZEngineJob),
  };
}
