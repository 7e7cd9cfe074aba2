"""Jinja chat templates for the built-in template ids, saved with the adapter and the merged
model so that `tokenizer.apply_chat_template` renders prompts the way the run trained.

They mirror the seed recipe's formats (DESIGN.md). The TypeScript renderer in packages/core is
the source of truth for training text; see README ("changes wanted in core") for moving these
strings there so both sides read one copy.
"""

from __future__ import annotations

from typing import Optional

PHI3 = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ '<|system|>\n' + message['content'] + '\n<|end|>\n' }}"
    "{% elif message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '\n<|end|>\n' }}"
    "{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\n' + message['content'] + '\n<|end|>\n' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

LLAMA3 = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)

DEEPSEEK_R1 = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}"
    "{% elif message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}"
    "{% elif message['role'] == 'assistant' %}{{ '<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %}"
)

_BY_ID = {"phi3": PHI3, "chatml": CHATML, "llama3": LLAMA3, "deepseek-r1": DEEPSEEK_R1}


def chat_template_for(template_id: str, model_template: Optional[str]) -> Optional[str]:
    """The Jinja template to ship: the built-in one, or the model's own for "model"."""
    return model_template if template_id == "model" else _BY_ID[template_id]
