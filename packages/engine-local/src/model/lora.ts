import { EngineError } from "../engine-error.ts";
import { Rng } from "../kernels/rng.ts";
import { LINEAR_NAMES, type LinearName, type LlamaModel, linearPrefix } from "./llama-model.ts";
import { createParam, setTrainable } from "./param.ts";

export interface LoraSpec {
  r: number;
  alpha: number;
  dropout: number;
  targetModules: string[];
  useRslora: boolean;
}

export function loraScale(spec: Pick<LoraSpec, "r" | "alpha" | "useRslora">): number {
  return spec.useRslora ? spec.alpha / Math.sqrt(spec.r) : spec.alpha / spec.r;
}

export function validateTargetModules(targets: string[]): LinearName[] {
  for (const t of targets) {
    if (!(LINEAR_NAMES as readonly string[]).includes(t)) {
      throw new EngineError(
        "config_invalid",
        `unknown LoRA target module "${t}" (choose from ${LINEAR_NAMES.join(", ")})`,
        {
          field: "lora.targetModules",
        },
      );
    }
  }
  return targets as LinearName[];
}

/**
 * Adds LoRA pairs as PEFT initializes them: A ~ kaiming_uniform(a=√5), i.e. U(±1/√in), and B = 0,
 * so the adapted model starts equal to the base. Names are PEFT's (`….q_proj.lora_A.weight`).
 */
export function attachLora(model: LlamaModel, spec: LoraSpec, seed: number): void {
  const targets = validateTargetModules(spec.targetModules);
  const rng = Rng.fromSeed(seed, 2);
  const scale = loraScale(spec);
  model.layers.forEach((layer, l) => {
    for (const name of targets) {
      const lin = layer.linears[name];
      const prefix = linearPrefix(l, name);
      const a = createParam(`${prefix}.lora_A.weight`, [spec.r, lin.inFeatures], model.dtype);
      const b = createParam(`${prefix}.lora_B.weight`, [lin.outFeatures, spec.r], model.dtype);
      const bound = 1 / Math.sqrt(lin.inFeatures);
      for (let i = 0; i < a.data.length; i++) a.data[i] = (rng.next() * 2 - 1) * bound;
      setTrainable(a, true);
      setTrainable(b, true);
      lin.lora = { a, b, r: spec.r, scale, dropout: spec.dropout };
    }
  });
}

/** W ← W + scale · B A for every adapted Linear, then drops the adapters (merge_and_unload). */
export function mergeLora(model: LlamaModel): void {
  for (const layer of model.layers) {
    for (const name of LINEAR_NAMES) {
      const lin = layer.linears[name];
      const lora = lin.lora;
      if (!lora) continue;
      const { inFeatures: K, outFeatures: N } = lin;
      const W = lin.weight.data;
      const A = lora.a.data;
      const B = lora.b.data;
      for (let i = 0; i < N; i++) {
        for (let k = 0; k < lora.r; k++) {
          const bik = (B[i * lora.r + k] as number) * lora.scale;
          if (bik === 0) continue;
          for (let j = 0; j < K; j++)
            W[i * K + j] = (W[i * K + j] as number) + bik * (A[k * K + j] as number);
        }
      }
      lin.lora = null;
    }
  }
}
