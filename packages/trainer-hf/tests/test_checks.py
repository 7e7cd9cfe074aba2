import os
import sys
import tempfile
import unittest

from distillery_trainer.checkpoints import latest_checkpoint, step_of
from distillery_trainer.env_check import can_import
from distillery_trainer.checks import (
    check_bitsandbytes,
    check_precision,
    check_quantization,
    check_sample_prompts,
    check_target_modules,
    resolve_target_modules,
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
        check_target_modules("all-linear", LLAMA_LINEARS)  # LoraConfig's string form

    def test_fused_projections(self) -> None:
        phi3 = [f"model.layers.{i}.{p}" for i in range(2) for p in (
            "self_attn.qkv_proj", "self_attn.o_proj", "mlp.gate_up_proj", "mlp.down_proj")] + ["lm_head"]
        # the seed recipe on Phi-3-mini: q/k/v/o → qkv_proj + o_proj, nothing widened
        targets, notes = resolve_target_modules(["q_proj", "k_proj", "v_proj", "o_proj"], phi3)
        self.assertEqual(targets, ["qkv_proj", "o_proj"])
        self.assertEqual(len(notes), 1)
        self.assertNotIn("also adapts", notes[0])
        check_target_modules(targets, phi3)
        # q and v only: qkv_proj adapts k too, and the note says so
        targets, notes = resolve_target_modules(["q_proj", "v_proj", "gate_proj"], phi3)
        self.assertEqual(targets, ["qkv_proj", "gate_up_proj"])
        self.assertTrue(any("also adapts k_proj" in n for n in notes))
        self.assertTrue(any("also adapts up_proj" in n for n in notes))
        # Llama keeps its names; unknown names stay for check_target_modules to refuse
        self.assertEqual(resolve_target_modules(["q_proj", "v_proj"], LLAMA_LINEARS), (["q_proj", "v_proj"], []))
        targets, _ = resolve_target_modules(["q_proj", "c_fc"], phi3)
        self.assertEqual(targets, ["qkv_proj", "c_fc"])
        self.assertField(lambda: check_target_modules(targets, phi3), "lora.targetModules")
        self.assertEqual(resolve_target_modules("all-linear", phi3), ("all-linear", []))

    def test_bitsandbytes_optimizers(self) -> None:
        config = parse_job(minimal_job()).config
        check_bitsandbytes(config, has_bitsandbytes=False, has_cuda=False)
        config["training"]["optimizer"] = "paged_adamw_32bit"
        self.assertField(lambda: check_bitsandbytes(config, False, True), "training.optimizer")
        self.assertField(lambda: check_bitsandbytes(config, True, False), "training.optimizer")
        check_bitsandbytes(config, True, True)

    def test_qlora_without_bitsandbytes_names_lora_quantization(self) -> None:
        config = parse_job(minimal_job()).config
        check_quantization(config, has_bitsandbytes=False, has_cuda=False)  # "none" needs nothing
        for quantization in ("nf4", "int8"):
            config["lora"]["quantization"] = quantization
            err = self.assertField(lambda: check_quantization(config, False, True), "lora.quantization")
            self.assertIn("bitsandbytes", err.message)
            self.assertIn(quantization, err.message)
            check_quantization(config, True, True)

    def test_qlora_needs_cuda_and_refuses_fsdp(self) -> None:
        config = parse_job(minimal_job()).config
        config["lora"]["quantization"] = "nf4"
        self.assertIn("CUDA", self.assertField(lambda: check_quantization(config, True, False), "lora.quantization").message)
        config["resources"]["strategy"] = "fsdp"
        check_quantization(config, True, True, world_size=1)
        self.assertIn("FSDP", self.assertField(lambda: check_quantization(config, True, True, 4), "lora.quantization").message)
        config["resources"]["strategy"] = "ddp"
        check_quantization(config, True, True, world_size=4)

    def test_qlora_refuses_full_fine_tuning_first(self) -> None:
        config = parse_job(minimal_job()).config
        config["lora"].update(method="full", quantization="int8")
        # the config is wrong whatever the machine has: said before anything about bitsandbytes
        err = self.assertField(lambda: check_quantization(config, False, False), "lora.quantization")
        self.assertIn("full fine-tuning", err.message)

    def test_can_import_is_false_for_a_module_that_raises(self) -> None:
        self.assertTrue(can_import("json"))
        self.assertFalse(can_import("distillery_no_such_module"))
        with tempfile.TemporaryDirectory() as d:
            # what a bitsandbytes built for another CUDA does: installed, and raises on import
            with open(os.path.join(d, "distillery_broken_bnb.py"), "w") as f:
                f.write("raise RuntimeError('CUDA Setup failed')\n")
            sys.path.insert(0, d)
            try:
                self.assertFalse(can_import("distillery_broken_bnb"))
            finally:
                sys.path.remove(d)

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
