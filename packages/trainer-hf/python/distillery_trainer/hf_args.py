"""RunConfig → keyword arguments of transformers.TrainingArguments and peft.LoraConfig.

Plain dicts, so the mapping is tested without torch; train.py drops the keys an older or newer
transformers does not know (eval_strategy was evaluation_strategy before 4.41).
"""

from __future__ import annotations

import os
from typing import Optional

# Optimizers that need bitsandbytes (the paged ones keep state in unified memory).
BNB_OPTIMIZERS = {"paged_adamw_32bit", "paged_adamw_8bit", "adamw_8bit"}


def training_arguments(
    config: dict,
    out_dir: str,
    has_eval: bool,
    world_size: int = 1,
) -> dict:
    t = config["training"]
    eval_strategy = t["evalStrategy"] if has_eval else "no"
    kwargs: dict = {
        "output_dir": os.path.join(out_dir, "checkpoints"),
        "num_train_epochs": float(t["epochs"]),
        "max_steps": int(t["maxSteps"]),
        "per_device_train_batch_size": int(t["perDeviceBatchSize"]),
        "per_device_eval_batch_size": int(t["perDeviceBatchSize"]),
        "gradient_accumulation_steps": int(t["gradientAccumulationSteps"]),
        "learning_rate": float(t["learningRate"]),
        "lr_scheduler_type": t["scheduler"],
        "warmup_ratio": float(t["warmupRatio"]),
        "max_grad_norm": float(t["maxGradNorm"]),
        "weight_decay": float(t["weightDecay"]),
        "adam_beta1": float(t["adamBeta1"]),
        "adam_beta2": float(t["adamBeta2"]),
        "adam_epsilon": float(t["adamEpsilon"]),
        "optim": t["optimizer"],
        "fp16": t["precision"] == "fp16",
        "bf16": t["precision"] == "bf16",
        "gradient_checkpointing": bool(t["gradientCheckpointing"]),
        "eval_strategy": eval_strategy,
        "save_strategy": t["saveStrategy"],
        "logging_strategy": "steps",
        "logging_steps": int(t["loggingSteps"]),
        # Trainer's default (True) logs a NaN/inf step loss as the running average instead, so a
        # diverged run would never show the nan_loss error (callbacks.EventCallback.on_log).
        # Logging only: gradients and steps are unaffected.
        "logging_nan_inf_filter": False,
        "seed": int(t["seed"]),
        "data_seed": int(t["seed"]),
        "report_to": "none",
        # Our collator produces exactly the model's inputs; nothing to drop.
        "remove_unused_columns": False,
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        # Keeps optimizer, scheduler and RNG state: exact resume needs them.
        "save_total_limit": 3,
        "save_safetensors": True,
    }
    if eval_strategy == "steps":
        kwargs["eval_steps"] = int(t["evalSteps"])
    if t["saveStrategy"] == "steps":
        kwargs["save_steps"] = int(t["saveSteps"])
    if t["gradientCheckpointing"]:
        # Non-reentrant checkpointing works with frozen inputs (LoRA) and with DDP.
        kwargs["gradient_checkpointing_kwargs"] = {"use_reentrant": False}
    if world_size > 1:
        strategy = config["resources"]["strategy"]
        if strategy == "fsdp":
            kwargs["fsdp"] = "full_shard auto_wrap"
            # Frozen base + trainable adapters in one flat parameter needs use_orig_params.
            kwargs["fsdp_config"] = {"use_orig_params": True}
        else:
            # LoRA leaves most parameters frozen; searching for unused ones costs a graph walk.
            kwargs["ddp_find_unused_parameters"] = False
    return kwargs


def lora_arguments(config: dict) -> Optional[dict]:
    """peft.LoraConfig kwargs, or None for full fine-tuning."""
    lora = config["lora"]
    if lora["method"] != "lora":
        return None
    kwargs: dict = {
        "r": int(lora["r"]),
        "lora_alpha": float(lora["alpha"]),
        "lora_dropout": float(lora["dropout"]),
        "target_modules": target_modules_of(lora["targetModules"]),
        "bias": lora["bias"],
        "task_type": "CAUSAL_LM",
    }
    if lora["useRslora"]:
        kwargs["use_rslora"] = True
    if lora["useDora"]:
        kwargs["use_dora"] = True
    return kwargs


def target_modules_of(names) -> list | str:
    """LoraConfig.target_modules. peft expands "all-linear" only when it is the whole value, a
    string (tuners_utils._maybe_include_all_linear_layers); inside a list it is looked up as a
    module name and matches nothing. Every linear layer covers any other name listed with it."""
    names = list(names)
    return "all-linear" if "all-linear" in names else names


def quantization_of(config: dict) -> str:
    """`lora.quantization`: "none" | "nf4" | "int8"."""
    return config["lora"].get("quantization", "none")


def bnb_quantization_kwargs(quantization: str, precision: str) -> Optional[dict]:
    """transformers.BitsAndBytesConfig kwargs for QLoRA, as PEFT's recipe has them: NF4 with
    double quantization, computing in bf16 (fp16 when the run trains in fp16, so autocast and the
    4-bit matmuls agree); or LLM.int8(). None without quantization. Dtypes as names:
    BitsAndBytesConfig resolves them."""
    if quantization == "nf4":
        return {
            "load_in_4bit": True,
            "bnb_4bit_quant_type": "nf4",
            "bnb_4bit_use_double_quant": True,
            "bnb_4bit_compute_dtype": "float16" if precision == "fp16" else "bfloat16",
        }
    if quantization == "int8":
        return {"load_in_8bit": True}
    return None


def merge_dtype(quantization: str, bf16_supported: bool) -> str:
    """The dtype the base is reloaded in for merge_and_unload. Without quantization: "auto", the
    dtype the base was saved in. After QLoRA the training copy is 4/8-bit, and merging into
    quantized weights would round the adapter away: merge into a fresh unquantized copy, bf16
    where the device has it, else fp32."""
    if quantization == "none":
        return "auto"
    return "bfloat16" if bf16_supported else "float32"
