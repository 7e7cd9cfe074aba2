import { loadModelDir, saveModelDir } from "./io/hf-model-dir.ts";
import { loadAdapterDir } from "./io/peft-adapter.ts";
import { mergeLora } from "./model/lora.ts";
import { type EngineTokenizer, loadTokenizer } from "./tokenizer/engine-tokenizer.ts";

/** merge_and_unload: base + PEFT adapter → a plain HF model dir (with the adapter's tokenizer if it has one). */
export function mergeAdapter(baseDir: string, adapterDir: string, outDir: string): void {
  const model = loadModelDir(baseDir);
  loadAdapterDir(model, adapterDir);
  mergeLora(model);
  let tokenizer: EngineTokenizer;
  try {
    tokenizer = loadTokenizer(adapterDir);
  } catch {
    tokenizer = loadTokenizer(baseDir);
  }
  saveModelDir(model, outDir, { tokenizer });
}
