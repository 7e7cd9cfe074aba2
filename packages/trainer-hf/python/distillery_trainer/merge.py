"""merge_and_unload: base + PEFT adapter → one safetensors model with the tokenizer.

The base is always reloaded unquantized: after QLoRA the training copy is 4-bit or 8-bit, and
merging into it would round the adapter's update away. train.py asks for bf16 (fp32 where the
device has no bf16) after a QLoRA run, "auto" (the dtype the base was saved in) otherwise. A base
that was saved already quantized (a `*-bnb-4bit` checkpoint) loads quantized whatever is asked:
it is dequantized before the adapter is applied.
"""

from __future__ import annotations

import os
from typing import Optional

import torch

from .errors import TrainerError
from .model_setup import dtype_kwarg, resize_embeddings

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def is_quantized(model) -> bool:
    return bool(getattr(model, "is_quantized", False) or getattr(model.config, "quantization_config", None))


def merge_adapter(base: str, adapter: str, out: str, dtype: str = "auto", revision: Optional[str] = None) -> str:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok_source = adapter if os.path.isfile(os.path.join(adapter, "tokenizer_config.json")) else base
    tokenizer = AutoTokenizer.from_pretrained(tok_source)
    kwargs: dict = {"revision": revision}
    torch_dtype = "auto" if dtype == "auto" else _DTYPES[dtype]
    # no quantization_config: an unquantized copy of the base, whatever the run trained on
    model = AutoModelForCausalLM.from_pretrained(base, **{dtype_kwarg(): torch_dtype}, **kwargs)
    if is_quantized(model):
        if not hasattr(model, "dequantize"):
            raise TrainerError(
                "the base model is saved quantized and this transformers cannot dequantize it for the merge",
                code="environment",
                field="merge.mergeAndUnload",
                hint="upgrade transformers, or merge onto an unquantized copy of the base with `python -m distillery_trainer merge`",
            )
        model = model.dequantize()
        if "quantization_config" in model.config.__dict__:  # else the merged config says quantized
            del model.config.quantization_config
        if dtype != "auto":
            model.to(_DTYPES[dtype])
    if torch.cuda.is_available():
        model.to("cuda")
    resize_embeddings(model, len(tokenizer))
    model = PeftModel.from_pretrained(model, adapter)
    merged = model.merge_and_unload()
    merged.config.pad_token_id = tokenizer.pad_token_id
    os.makedirs(out, exist_ok=True)
    merged.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out
