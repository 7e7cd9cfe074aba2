"""QLoRA (`lora.quantization`) through the CLI on a tiny random Llama.

Which half runs depends on the machine: without bitsandbytes, the run must fail before its first
step naming `lora.quantization`; with bitsandbytes and a CUDA GPU, an NF4 run must train, and its
merge must land in an unquantized bf16 copy of the base. Each half skips with its reason otherwise.
"""

import json
import os
import shutil
import tempfile
import unittest

from .helpers import require_torch_stack

require_torch_stack()

import torch  # noqa: E402

from distillery_trainer.env_check import can_import  # noqa: E402

from .helpers import losses_by_step, make_job, make_tiny_llama, run_train  # noqa: E402

HAS_BNB = can_import("bitsandbytes")


class QLoRAWork(unittest.TestCase):
    def setUp(self) -> None:
        self.work = tempfile.mkdtemp(prefix="distillery-qlora-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.model_dir = os.path.join(self.work, "base")
        make_tiny_llama(self.model_dir)


@unittest.skipIf(HAS_BNB, "bitsandbytes imports here: the QLoRA run below covers this machine")
class WithoutBitsandbytes(QLoRAWork):
    def test_fails_before_the_first_step_naming_the_field(self) -> None:
        for quantization in ("nf4", "int8"):
            with self.subTest(quantization=quantization):
                job = make_job(self.work, self.model_dir, f"no-bnb-{quantization}", {}, lora={"quantization": quantization})
                rc, events, _ = run_train(job)
                self.assertEqual(rc, 1)
                self.assertEqual(events[-1]["type"], "error")
                self.assertEqual(events[-1]["field"], "lora.quantization")
                self.assertIn("bitsandbytes", events[-1]["message"])
                self.assertFalse(any(e["type"] in ("metric", "checkpoint") for e in events))


@unittest.skipUnless(HAS_BNB and torch.cuda.is_available(), "QLoRA needs bitsandbytes and a CUDA GPU")
class NF4Run(QLoRAWork):
    def test_trains_and_merges_into_an_unquantized_base(self) -> None:
        from safetensors import safe_open

        job = make_job(
            self.work, self.model_dir, "nf4", {"maxSteps": 20, "precision": "bf16", "saveStrategy": "no"},
            lora={"quantization": "nf4"},
        )
        rc, events, stderr = run_train(job)
        self.assertEqual(rc, 0, stderr[-3000:])
        losses = losses_by_step(events)
        self.assertLess(sum(losses[s] for s in (18, 19, 20)), sum(losses[s] for s in (1, 2, 3)), losses)
        artifacts = {e["kind"]: e["path"] for e in events if e["type"] == "artifact"}
        self.assertEqual(set(artifacts), {"adapter", "merged"})
        with open(os.path.join(artifacts["merged"], "config.json")) as f:
            self.assertNotIn("quantization_config", json.load(f))
        with safe_open(os.path.join(artifacts["merged"], "model.safetensors"), "pt") as f:
            weight = f.get_tensor("model.layers.0.self_attn.q_proj.weight")
        self.assertEqual(weight.dtype, torch.bfloat16)
        self.assertEqual(tuple(weight.shape), (64, 64))  # full weights, not packed 4-bit

    def test_full_fine_tuning_is_refused(self) -> None:
        job = make_job(self.work, self.model_dir, "full", {}, lora={"method": "full", "quantization": "nf4"})
        rc, events, _ = run_train(job)
        self.assertEqual(rc, 1)
        self.assertEqual(events[-1]["field"], "lora.quantization")


if __name__ == "__main__":
    unittest.main()
