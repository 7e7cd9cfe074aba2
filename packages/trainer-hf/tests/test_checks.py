import os
import tempfile
import unittest

from distillery_trainer.checkpoints import latest_checkpoint, step_of
from distillery_trainer.checks import (
    check_bitsandbytes,
    check_precision,
    check_sample_prompts,
    check_target_modules,
    check_template,
    describe_oom,
)
from distillery_trainer.errors import TrainerError
from distillery_trainer.job import parse_job
from distillery_trainer.templates import chat_template_for

from .helpers import minimal_job

LLAMA_LINEARS = [f"model.layers.{i}.{p}" for i in range(2) for p in (
    "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")] + ["lm_head"]


class Preflight(unittest.TestCase):
    def assertField(self, fn, field: str, code: str = "config_invalid") -> TrainerError:
        with self.assertRaises(TrainerError) as ctx:
            fn()
        self.assertEqual(ctx.exception.field, field)
        self.assertEqual(ctx.exception.code, code)
        return ctx.exception

    def test_target_modules(self) -> None:
        check_target_modules(["q_proj", "down_proj"], LLAMA_LINEARS)
        err = self.assertField(lambda: check_target_modules(["q_proj", "qkv_proj"], LLAMA_LINEARS), "lora.targetModules")
        self.assertIn("qkv_proj", err.message)
        self.assertIn("gate_proj", err.hint)
        self.assertNotIn("lm_head", err.hint)

    def test_bitsandbytes(self) -> None:
        config = parse_job(minimal_job()).config
        check_bitsandbytes(config, has_bitsandbytes=False, has_cuda=False)
        config["training"]["optimizer"] = "paged_adamw_32bit"
        self.assertField(lambda: check_bitsandbytes(config, False, True), "training.optimizer")
        self.assertField(lambda: check_bitsandbytes(config, True, False), "training.optimizer")
        check_bitsandbytes(config, True, True)
        config["training"]["optimizer"] = "adamw_torch"
        config["lora"]["quantization"] = "4bit"
        err = self.assertField(lambda: check_bitsandbytes(config, False, True), "lora.quantization")
        self.assertIn("bitsandbytes", err.message)

    def test_precision(self) -> None:
        check_precision("fp32", has_cuda=False, bf16_supported=False)
        self.assertField(lambda: check_precision("fp16", False, False), "training.precision")
        self.assertField(lambda: check_precision("bf16", True, False), "training.precision")
        check_precision("bf16", True, True)

    def test_template_needs_a_generation_prompt(self) -> None:
        check_template("phi3", None)
        check_template("model", "{% if add_generation_prompt %}<|assistant|>{% endif %}")
        self.assertField(lambda: check_template("model", "{{ messages[0]['content'] }}"), "data.template")
        self.assertField(lambda: check_template("model", None), "data.template")

    def test_builtin_templates_have_generation_prompts(self) -> None:
        for template_id in ("phi3", "chatml", "llama3", "deepseek-r1"):
            self.assertIn("add_generation_prompt", chat_template_for(template_id, None))
        self.assertEqual(chat_template_for("model", "X"), "X")

    def test_sample_prompt_too_long(self) -> None:
        check_sample_prompts(["a"], 16, [3])
        self.assertField(lambda: check_sample_prompts(["a", "b"], 16, [3, 16]), "sampling.prompts.1")

    def test_oom_reports_size_and_hint(self) -> None:
        training = parse_job(minimal_job()).config["training"]
        err = describe_oom(
            "CUDA out of memory. Tried to allocate 2.50 GiB. GPU 0 has a total capacity of 79.1 GiB",
            training,
            "NVIDIA H100",
        )
        self.assertEqual(err.code, "out_of_memory")
        self.assertIn("2.50 GiB", err.message)
        self.assertIn("NVIDIA H100", err.message)
        self.assertIn("gradientCheckpointing", err.hint)
        self.assertIn("maxSeqLength", err.hint)
        training["gradientCheckpointing"] = True
        self.assertNotIn("gradientCheckpointing", describe_oom("oom", training).hint)


class Checkpoints(unittest.TestCase):
    def test_latest_complete_checkpoint(self) -> None:
        with tempfile.TemporaryDirectory() as out:
            self.assertIsNone(latest_checkpoint(out))
            for step, complete in ((5, True), (20, True), (30, False), (100, False)):
                d = os.path.join(out, "checkpoints", f"checkpoint-{step}")
                os.makedirs(d)
                if complete:
                    open(os.path.join(d, "trainer_state.json"), "w").close()
            os.makedirs(os.path.join(out, "checkpoints", "checkpoint-x"))
            latest = latest_checkpoint(out)
            self.assertTrue(latest.endswith("checkpoint-20"))
            self.assertEqual(step_of(latest), 20)


if __name__ == "__main__":
    unittest.main()
