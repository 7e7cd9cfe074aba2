import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { type CanonicalExample, type ChatTemplateSpec, toEngineExample } from "@distillery/core";

export interface WriteEngineJsonlOptions {
  readRows: () => AsyncIterable<CanonicalExample>;
  template: ChatTemplateSpec;
  /** the run's `data.systemPrompt`, used where a row has none */
  systemPrompt?: string;
  /** written to `${path}.partial` and renamed when complete */
  path: string;
}

/**
 * Renders a version's rows into the JSONL of `{prompt, completion}` (ZEngineExample) that an
 * engine job's `paths.trainData`/`evalData` point at.
 */
export async function writeEngineJsonl(options: WriteEngineJsonlOptions): Promise<{ rows: number }> {
  const temp = `${options.path}.partial`;
  const out = createWriteStream(temp);
  let rows = 0;
  try {
    let buf = "";
    for await (const row of options.readRows()) {
      const example = toEngineExample(row, options.template, {
        ...(options.systemPrompt ? { systemPrompt: options.systemPrompt } : {}),
      });
      buf += `${JSON.stringify(example)}\n`;
      rows++;
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await once(out, "drain");
        buf = "";
      }
    }
    out.end(buf);
    await once(out, "finish");
    await rename(temp, options.path);
    return { rows };
  } catch (err) {
    out.destroy();
    await rm(temp, { force: true });
    throw err;
  }
}
