"""Preflight checks: a config the trainer cannot honour fails before the first step, with an
error event naming the run-config field. Pure functions over names and strings."""

from __future__ import annotations

import re
from typing import Iterable, Optional, Sequence

from .errors import TrainerError, config_error
from .hf_args import BNB_OPTIMIZERS, quantization_of


def linear_module_suffixes(module_names: Iterable[str]) -> set:
    """`model.layers.0.self_attn.q_proj` → `q_proj` (the names peft matches on)."""
    return {name.rsplit(".", 1)[-1] for name in module_names if name}


# Models that fuse projections the run config names separately (the config speaks Llama's
# names): Phi-3 has qkv_proj and gate_up_proj, Falcon / GPT-NeoX query_key_value.
FUSED_MODULES = {
    "qkv_proj": ("q_proj", "k_proj", "v_proj"),
    "query_key_value": ("q_proj", "k_proj", "v_proj"),
    "gate_up_proj": ("gate_proj", "up_proj"),
}


def resolve_target_modules(requested, linear_names: Iterable[str]) -> tuple:
    """Maps Llama names the model lacks onto the fused module that holds them, so the seed recipe
    (q/k/v/o on Phi-3-mini) trains qkv_proj + o_proj as practitioners configure it, instead of
    failing or, as peft alone would, silently adapting o_proj only. Returns (target_modules,
    notes): the notes say what was widened (a fused qkv_proj also adapts k when only q and v were
    asked for). Names with no module and no fused home are left for check_target_modules."""
    if isinstance(requested, str):
        return requested, []
    available = linear_module_suffixes(linear_names)
    resolved: list = []
    notes: list = []
    for fused, parts in FUSED_MODULES.items():
        wanted = [m for m in requested if m in parts and m not in available]
        if wanted and fused in available:
            notes.append(
                f"this model fuses {', '.join(parts)} into {fused}: LoRA on {fused} stands for "
                f"{', '.join(wanted)}" + (
                    f" (and also adapts {', '.join(p for p in parts if p not in wanted)})"
                    if len(wanted) < len(parts) else ""
                )
            )
            resolved.append(fused)
    for m in requested:
        fused_home = any(m in parts and m not in available and f in available for f, parts in FUSED_MODULES.items())
        if not fused_home and m not in resolved:
            resolved.append(m)
    return resolved, notes


def check_target_modules(requested, linear_names: Iterable[str]) -> None:
    """`requested`: LoraConfig.target_modules, a list of names or the string "all-linear"."""
    if isinstance(requested, str):
        requested = [requested]
    available = linear_module_suffixes(linear_names)
    missing = [m for m in requested if m not in available and m != "all-linear"]
    if missing:
        known = ", ".join(sorted(available - {"lm_head"})) or "none"
        raise config_error(
            "lora.targetModules",
            f"the model has no module named {', '.join(missing)}",
            hint=f"linear modules of this model: {known}",
        )


def check_quantization(config: dict, has_bitsandbytes: bool, has_cuda: bool, world_size: int = 1) -> None:
    """QLoRA (`lora.quantization` nf4 / int8). `has_bitsandbytes`: whether `import bitsandbytes`
    succeeds here (env_check.can_import), passed in so this stays testable without torch."""
    quantization = quantization_of(config)
    if quantization == "none":
        return
    if config["lora"]["method"] != "lora":
        # zod refuses this too; the JSON Schema cannot say it, so the trainer repeats it
        raise config_error(
            "lora.quantization",
            "quantization trains LoRA adapters on a quantized base; full fine-tuning cannot train quantized weights",
            hint="pick lora.method lora, or lora.quantization none",
        )
    if not has_bitsandbytes:
        raise config_error(
            "lora.quantization",
            f"QLoRA ({quantization}) needs bitsandbytes, which does not import on this worker",
            hint="pip install bitsandbytes on the GPU worker, or train with lora.quantization none",
        )
    if not has_cuda:
        raise config_error(
            "lora.quantization",
            "QLoRA needs a CUDA GPU: bitsandbytes' 4-bit and 8-bit layers run on CUDA",
            hint="train with lora.quantization none on this machine",
        )
    if world_size > 1 and config["resources"]["strategy"] == "fsdp":
        raise config_error(
            "lora.quantization",
            "QLoRA with FSDP is not supported by this trainer (each GPU loads its own quantized copy)",
            hint='use resources.strategy "ddp" (or "auto"), or lora.quantization none',
        )


def check_bitsandbytes(config: dict, has_bitsandbytes: bool, has_cuda: bool) -> None:
    """The paged / 8-bit optimizers."""
    optimizer = config["training"]["optimizer"]
    if optimizer in BNB_OPTIMIZERS and not (has_bitsandbytes and has_cuda):
        need = "bitsandbytes" if not has_bitsandbytes else "a CUDA GPU"
        raise config_error(
            "training.optimizer",
            f"the {optimizer} optimizer needs {need}",
            hint="install bitsandbytes on the worker, or choose adamw_torch",
        )


def check_precision(precision: str, has_cuda: bool, bf16_supported: bool) -> None:
    if precision == "fp16" and not has_cuda:
        raise config_error("training.precision", "fp16 mixed precision needs a CUDA GPU", hint="choose fp32 or bf16")
    if precision == "bf16" and not bf16_supported:
        raise config_error(
            "training.precision",
            "this device does not support bf16",
            hint="choose fp16 (pre-Ampere GPUs) or fp32",
        )


def has_generation_prompt(chat_template: Optional[str]) -> bool:
    """A Jinja chat template that can end a prompt with the assistant header."""
    return bool(chat_template) and "add_generation_prompt" in chat_template


def check_template(template_id: str, model_chat_template: Optional[str]) -> None:
    if template_id == "model" and not has_generation_prompt(model_chat_template):
        raise config_error(
            "data.template",
            "the model's own chat template has no generation prompt (add_generation_prompt)"
            if model_chat_template
            else "the model has no chat template of its own",
            hint="pick a built-in template (phi3, chatml, llama3, deepseek-r1)",
        )


def check_sample_prompts(rendered: Sequence[str], max_len: int, lengths: Sequence[int]) -> None:
    for i, (text, n) in enumerate(zip(rendered, lengths)):
        if n >= max_len:
            raise config_error(
                f"sampling.prompts.{i}",
                f"sample prompt {i} has {n} tokens, no room to generate within maxSeqLength {max_len}",
            )


_OOM_SIZE = re.compile(r"Tried to allocate ([0-9.]+ [KMGT]?i?B)")


def describe_oom(message: str, training: dict, gpu_name: Optional[str] = None) -> TrainerError:
    """An out_of_memory error with the size that failed and what to lower first."""
    m = _OOM_SIZE.search(message)
    size = m.group(1) if m else "an unknown amount"
    where = f" on {gpu_name}" if gpu_name else ""
    batch = training["perDeviceBatchSize"]
    seq = training["maxSeqLength"]
    hints = [f"lower training.perDeviceBatchSize (now {batch}) and raise gradientAccumulationSteps"]
    hints.append(f"lower training.maxSeqLength (now {seq})")
    if not training["gradientCheckpointing"]:
        hints.append("turn on training.gradientCheckpointing")
    return TrainerError(
        f"out of GPU memory{where}: tried to allocate {size} (batch {batch} × sequence {seq})",
        code="out_of_memory",
        field="training.perDeviceBatchSize",
        hint="; ".join(hints),
    )
