"""Chat templates saved with the adapter and the merged model, and how rendered rows become ids.

One source with the studio: builtin_templates.json is generated from core's BUILTIN_TEMPLATES
(the templates the worker renders the training rows with; `npm run export-templates -w
packages/trainer-hf`, checked by a test), so the saved `chat_template` is exactly the template
the rows were rendered with. For template "model" it is the model's own template, which the
worker also rendered with.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Optional


def builtin_templates() -> dict:
    """{template id: {"chat_template", "bos_token", "eos_token", "source"}} from core's templates."""
    text = resources.files("distillery_trainer").joinpath("builtin_templates.json").read_text(encoding="utf-8")
    return json.loads(text)


def chat_template_for(template_id: str, model_template: Optional[str]) -> Optional[str]:
    """The Jinja template to ship: the built-in one, or the model's own for "model"."""
    if template_id == "model":
        return model_template
    templates = builtin_templates()
    if template_id not in templates:
        raise ValueError(f"unknown chat template {template_id!r}; built-in: {', '.join(sorted(templates))}")
    return templates[template_id]["chat_template"]


def encode_rendered(tokenizer, text: str) -> list:
    """Token ids of text the chat template rendered (a prompt, a completion, a sample prompt).

    The template writes every special token it wants (Llama-3's and R1's BOS included), so the
    tokenizer adds none: `add_special_tokens=False`, as transformers'
    `apply_chat_template(tokenize=True)` and the local engine do. Adding them would put a second
    BOS in front of a Llama-3 or R1-Distill prompt that already starts with one.
    """
    return tokenizer(text, add_special_tokens=False)["input_ids"]
