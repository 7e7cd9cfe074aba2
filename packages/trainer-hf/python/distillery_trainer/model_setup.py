"""Loading the tokenizer and the student, adding the special tokens, wrapping with peft."""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import torch
from torch import nn

from .checks import check_target_modules, resolve_target_modules
from .emit_types import Log


def load_tokenizer(base_model: str, config: dict, revision: Optional[str] = None):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base_model, revision=revision)
    original_template = getattr(tok, "chat_template", None)
    pad = config["padToken"]
    if pad == "eos":
        if tok.eos_token is None:
            raise ValueError("the tokenizer has no eos token to use as pad")
        tok.pad_token = tok.eos_token
    elif pad not in tok.get_vocab():
        tok.add_tokens([pad], special_tokens=True)
        tok.pad_token = pad
    else:
        tok.pad_token = pad
    vocab = tok.get_vocab()
    fresh = [t for t in config["specialTokens"] if t not in vocab]
    if fresh:
        tok.add_tokens(fresh, special_tokens=True)
    new_ids = [tok.convert_tokens_to_ids(t) for t in fresh]
    return tok, original_template, new_ids


def torch_dtype_of(precision: str, is_lora: bool) -> torch.dtype:
    # LoRA: the frozen base in half precision, adapters in fp32 (peft's default); full
    # fine-tuning keeps fp32 master weights and lets autocast do the half-precision math.
    if is_lora and precision == "bf16":
        return torch.bfloat16
    if is_lora and precision == "fp16":
        return torch.float16
    return torch.float32


def resize_embeddings(model: nn.Module, vocab_size: int) -> None:
    """Grows the embeddings to the tokenizer, new rows = mean of the old rows: deterministic, so
    a resumed run and a merge rebuild exactly the base the adapter was trained on."""
    inp = model.get_input_embeddings()
    old = inp.weight.shape[0]
    if vocab_size <= old:
        return
    try:
        model.resize_token_embeddings(vocab_size, mean_resizing=False)
    except TypeError:  # transformers < 4.46 has no mean_resizing (and does not use it)
        model.resize_token_embeddings(vocab_size)
    with torch.no_grad():
        for emb in {id(e): e for e in (model.get_input_embeddings(), model.get_output_embeddings()) if e is not None}.values():
            w = emb.weight
            w[old:] = w[:old].float().mean(dim=0, keepdim=True).to(w.dtype)


def attention_implementation(has_cuda: bool, dtype: torch.dtype, has_flash: bool) -> str:
    if has_cuda and has_flash and dtype in (torch.float16, torch.bfloat16):
        return "flash_attention_2"
    return "sdpa"


def load_model(base_model: str, dtype: torch.dtype, attn: str, bnb_kwargs: Optional[dict], device_map, revision=None):
    """The student; quantized through bitsandbytes when `bnb_kwargs` (hf_args.bnb_quantization_kwargs)
    says so: QLoRA places the quantized weights with a device_map, as they cannot move later."""
    from transformers import AutoModelForCausalLM

    kwargs: dict = {"attn_implementation": attn, "revision": revision}
    if bnb_kwargs is not None:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(**bnb_kwargs)
        kwargs["device_map"] = device_map
    return AutoModelForCausalLM.from_pretrained(base_model, **{dtype_kwarg(): dtype}, **kwargs)


def dtype_kwarg() -> str:
    """from_pretrained's dtype keyword: `dtype` since transformers 4.56, `torch_dtype` before."""
    import transformers
    from packaging.version import Version

    return "dtype" if Version(transformers.__version__).release >= (4, 56) else "torch_dtype"


def linear_module_names(model: nn.Module) -> list:
    names = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) or type(module).__name__ in ("Linear4bit", "Linear8bitLt", "Conv1D"):
            names.append(name)
    return names


def module_name_of(model: nn.Module, target: Optional[nn.Module]) -> Optional[str]:
    if target is None:
        return None
    for name, module in model.named_modules():
        if module is target:
            return name.rsplit(".", 1)[-1]
    return None


def is_tied(model: nn.Module) -> bool:
    out = model.get_output_embeddings()
    return out is not None and out.weight is model.get_input_embeddings().weight


def wrap_with_lora(
    model: nn.Module,
    lora_kwargs: dict,
    new_token_ids: list,
    reload: Callable[[], nn.Module],
    log: Log,
) -> nn.Module:
    """get_peft_model, with the rows of newly added tokens trainable: peft's
    trainable_token_indices (≥ 0.15) when it accepts the layers, else modules_to_save."""
    from peft import LoraConfig, get_peft_model

    linears = linear_module_names(model)
    targets, notes = resolve_target_modules(lora_kwargs["target_modules"], linears)
    for note in notes:
        log(note, "info")
    lora_kwargs = {**lora_kwargs, "target_modules": targets}
    check_target_modules(targets, linears)
    if not new_token_ids:
        return get_peft_model(model, LoraConfig(**lora_kwargs))
    embed = module_name_of(model, model.get_input_embeddings()) or "embed_tokens"
    head = module_name_of(model, model.get_output_embeddings())
    fields = {f.name for f in dataclasses.fields(LoraConfig)}
    if "trainable_token_indices" in fields:
        indices = {embed: list(new_token_ids)}
        if head and not is_tied(model):
            indices[head] = list(new_token_ids)
        try:
            peft_model = get_peft_model(model, LoraConfig(**lora_kwargs, trainable_token_indices=indices))
            log(f"new token rows trainable via trainable_token_indices on {', '.join(indices)}", "info")
            return peft_model
        except Exception as e:  # an older peft that wraps only embeddings: start again
            log(f"trainable_token_indices failed ({e}); training the whole {embed}/{head} instead", "warn")
            model = reload()
    modules = [m for m in (embed, head) if m]
    log(f"new token rows trainable via modules_to_save={modules}", "info")
    return get_peft_model(model, LoraConfig(**lora_kwargs, modules_to_save=modules))


def trainable_summary(model: nn.Module) -> str:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return f"trainable parameters: {trainable:,} of {total:,} ({100 * trainable / max(total, 1):.3f}%)"
