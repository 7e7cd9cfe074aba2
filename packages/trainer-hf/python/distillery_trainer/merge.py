"""merge_and_unload: base + PEFT adapter → one safetensors model with the tokenizer."""

from __future__ import annotations

import os
from typing import Optional

import torch

from .model_setup import dtype_kwarg, resize_embeddings

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def merge_adapter(base: str, adapter: str, out: str, dtype: str = "auto", revision: Optional[str] = None) -> str:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok_source = adapter if os.path.isfile(os.path.join(adapter, "tokenizer_config.json")) else base
    tokenizer = AutoTokenizer.from_pretrained(tok_source)
    # "auto" keeps the dtype the base was saved in (config.torch_dtype / dtype).
    kwargs: dict = {"revision": revision}
    torch_dtype = "auto" if dtype == "auto" else _DTYPES[dtype]
    model = AutoModelForCausalLM.from_pretrained(base, **{dtype_kwarg(): torch_dtype}, **kwargs)
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
