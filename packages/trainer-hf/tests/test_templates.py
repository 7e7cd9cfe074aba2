"""The trainer's chat templates come from core (builtin_templates.json), byte for byte."""

import json
import unittest
from pathlib import Path

from distillery_trainer.templates import builtin_templates, chat_template_for

from .helpers import PACKAGE_DIR

CORE_RENDERER = PACKAGE_DIR.parent / "core" / "scripts" / "render-jinja2.py"


class BuiltinTemplates(unittest.TestCase):
    def test_every_builtin_template_comes_from_the_exported_json(self) -> None:
        exported = json.loads((PACKAGE_DIR / "python" / "distillery_trainer" / "builtin_templates.json").read_text())
        self.assertEqual(sorted(builtin_templates()), ["chatml", "deepseek-r1", "llama3", "phi3"])
        for template_id, entry in exported.items():
            self.assertEqual(chat_template_for(template_id, None), entry["chat_template"])

    def test_model_template_is_the_models_own(self) -> None:
        self.assertEqual(chat_template_for("model", "{{ x }}"), "{{ x }}")
        with self.assertRaisesRegex(ValueError, "unknown chat template 'nope'"):
            chat_template_for("nope", None)

    def test_the_templates_the_studio_renders_rows_with(self) -> None:
        # what used to differ from the studio's rows (issue 10): Phi-3's `\n<|end|>`, ChatML
        # without Qwen's default system prompt, R1 without the `<think>\n` generation prompt
        phi3 = chat_template_for("phi3", None)
        self.assertIn("message['content'] + '<|end|>\\n'", phi3)
        self.assertNotIn("\\n<|end|>", phi3)
        self.assertIn("You are Qwen, created by Alibaba Cloud. You are a helpful assistant.", chat_template_for("chatml", None))
        self.assertIn("{{'<｜Assistant｜><think>\\n'}}", chat_template_for("deepseek-r1", None))


class RenderedAsTheStudioRendersThem(unittest.TestCase):
    """With Jinja2 (Debian's python3-jinja2) set up as transformers does: the saved templates give
    the studio's rows. Skipped, with the reason, where jinja2 is not importable."""

    @classmethod
    def setUpClass(cls) -> None:
        try:
            import importlib.util

            spec = importlib.util.spec_from_file_location("render_jinja2", CORE_RENDERER)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)  # exits 3 when jinja2 is missing
        except (ImportError, SystemExit) as e:
            raise unittest.SkipTest(f"jinja2 not importable here ({e}); apt-get install python3-jinja2")
        from datetime import datetime

        cls.env = module.make_environment(datetime(2026, 1, 15))

    def render(self, template_id: str, messages: list, add_generation_prompt: bool) -> str:
        entry = builtin_templates()[template_id]
        tokens = {k: entry[k] for k in ("bos_token", "eos_token") if entry[k] is not None}
        return self.env.from_string(entry["chat_template"]).render(
            messages=messages, tools=None, documents=None, add_generation_prompt=add_generation_prompt, **tokens
        )

    def test_generation_prompts(self) -> None:
        user = [{"role": "user", "content": "What is 2+2?"}]
        self.assertEqual(self.render("phi3", user, True), "<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n")
        self.assertEqual(
            self.render("chatml", user, True),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
        )
        self.assertEqual(
            self.render("llama3", user, True),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
        )
        self.assertEqual(
            self.render("deepseek-r1", user, True), "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜><think>\n"
        )

    def test_phi3_full_turn_has_no_newline_before_end(self) -> None:
        messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
        self.assertEqual(self.render("phi3", messages, False), "<|user|>\nHi<|end|>\n<|assistant|>\nHello<|end|>\n<|endoftext|>")


if __name__ == "__main__":
    unittest.main()
