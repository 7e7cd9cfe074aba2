"""Trains tiny random Llama models end to end through the CLI and checks what comes out."""

import os
import shutil
import tempfile
import unittest

from .helpers import require_torch_stack

require_torch_stack()

import torch  # noqa: E402
from peft import PeftModel  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

from distillery_trainer.model_setup import resize_embeddings  # noqa: E402

from .helpers import losses_by_step, make_job, make_tiny_llama, run_train  # noqa: E402


class TrainedRun(unittest.TestCase):
    """One 30-step LoRA run shared by the tests that inspect its outputs."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.work = tempfile.mkdtemp(prefix="distillery-torch-")
        cls.model_dir = os.path.join(cls.work, "base")
        make_tiny_llama(cls.model_dir)
        cls.job = make_job(
            cls.work, cls.model_dir, "run", {"packing": True, "evalStrategy": "steps", "evalSteps": 10},
            sampling={"prompts": ["w1 w2 w3"], "everySteps": 10, "maxNewTokens": 8, "temperature": 0.7},
        )
        # the sample prompt as the worker renders it
        import json

        with open(cls.job) as f:
            job = json.load(f)
        job["samplePrompts"] = [{"prompt": "w1 w2 w3", "rendered": "<|user|>\nw1 w2 w3\n<|end|>\n<|assistant|>\n"}]
        with open(cls.job, "w") as f:
            json.dump(job, f)
        cls.rc, cls.events, cls.stderr = run_train(cls.job)
        cls.out = os.path.join(cls.work, "run")

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_exits_zero_and_ends_with_done(self) -> None:
        self.assertEqual(self.rc, 0, self.stderr[-3000:])
        self.assertEqual(self.events[-1]["type"], "done")
        self.assertEqual(self.events[-1]["step"], 30)
        seqs = [e["seq"] for e in self.events]
        self.assertEqual(seqs, list(range(len(seqs))))

    def test_loss_falls_over_30_steps(self) -> None:
        losses = losses_by_step(self.events)
        self.assertEqual(sorted(losses), list(range(1, 31)))
        first = sum(losses[s] for s in range(1, 4)) / 3
        last = sum(losses[s] for s in range(28, 31)) / 3
        self.assertLess(last, 0.9 * first, losses)

    def test_metrics_checkpoints_samples_artifacts(self) -> None:
        metric_keys = set().union(*(e["values"].keys() for e in self.events if e["type"] == "metric"))
        self.assertTrue({"loss", "learning_rate", "grad_norm", "epoch", "tokens_per_second", "eval_loss"} <= metric_keys)
        checkpoints = [e["step"] for e in self.events if e["type"] == "checkpoint"]
        self.assertEqual(checkpoints, [10, 20, 30])
        samples = [e for e in self.events if e["type"] == "sample"]
        self.assertEqual([s["step"] for s in samples], [10, 20, 30])
        artifacts = {e["kind"]: e["path"] for e in self.events if e["type"] == "artifact"}
        self.assertEqual(set(artifacts), {"adapter", "merged"})
        self.assertTrue(os.path.isfile(os.path.join(artifacts["adapter"], "adapter_model.safetensors")))
        self.assertTrue(os.path.isfile(os.path.join(artifacts["merged"], "model.safetensors")))

    def test_special_tokens_and_chat_template_ship_with_the_model(self) -> None:
        tok = AutoTokenizer.from_pretrained(os.path.join(self.out, "merged"))
        self.assertEqual(len(tok.tokenize("<think>")), 1)
        self.assertIn("add_generation_prompt", tok.chat_template)
        self.assertEqual(tok.pad_token, tok.eos_token)

    def base_with_adapter(self):
        tok = AutoTokenizer.from_pretrained(os.path.join(self.out, "adapter"))
        base = AutoModelForCausalLM.from_pretrained(self.model_dir, torch_dtype=torch.float32)
        resize_embeddings(base, len(tok))
        return tok, PeftModel.from_pretrained(base, os.path.join(self.out, "adapter")).eval()

    def test_adapter_reloads_with_peft_and_changes_the_model(self) -> None:
        tok, model = self.base_with_adapter()
        ids = tok("<|user|>\nw1 w2\n<|end|>\n<|assistant|>\n<think>", return_tensors="pt")["input_ids"]
        with torch.no_grad():
            adapted = model(input_ids=ids).logits
            with model.disable_adapter():
                plain = model(input_ids=ids).logits
        self.assertGreater((adapted - plain).abs().max().item(), 1e-3)

    def test_merged_model_matches_base_plus_adapter(self) -> None:
        tok, model = self.base_with_adapter()
        merged = AutoModelForCausalLM.from_pretrained(os.path.join(self.out, "merged"), torch_dtype=torch.float32).eval()
        ids = tok("<|user|>\nw5 w6 w7\n<|end|>\n<|assistant|>\n<think>\nw5", return_tensors="pt")["input_ids"]
        with torch.no_grad():
            expected = model(input_ids=ids).logits
            actual = merged(input_ids=ids).logits
        torch.testing.assert_close(actual, expected, atol=1e-4, rtol=1e-4)


class ResumeEquivalence(unittest.TestCase):
    def test_resumed_run_matches_an_uninterrupted_one(self) -> None:
        work = tempfile.mkdtemp(prefix="distillery-resume-")
        self.addCleanup(shutil.rmtree, work, True)
        model_dir = os.path.join(work, "base")
        make_tiny_llama(model_dir)
        training = {"maxSteps": 20, "packing": True}
        rc, straight, err = run_train(make_job(work, model_dir, "straight", training, merge={"mergeAndUnload": False}))
        self.assertEqual(rc, 0, err[-3000:])
        # A crash after step 10: the second run finds checkpoint-10 in its outDir and resumes.
        resumed_job = make_job(work, model_dir, "resumed", training, merge={"mergeAndUnload": False})
        os.makedirs(os.path.join(work, "resumed", "checkpoints"))
        shutil.copytree(
            os.path.join(work, "straight", "checkpoints", "checkpoint-10"),
            os.path.join(work, "resumed", "checkpoints", "checkpoint-10"),
        )
        rc, resumed, err = run_train(resumed_job)
        self.assertEqual(rc, 0, err[-3000:])
        self.assertTrue(any(e["type"] == "log" and "resuming from" in e["message"] for e in resumed))
        a, b = losses_by_step(straight), losses_by_step(resumed)
        self.assertEqual(sorted(b), list(range(11, 21)))
        tol = 1e-3 if torch.cuda.is_available() else 1e-5
        for step in range(11, 21):
            self.assertAlmostEqual(a[step], b[step], delta=tol * max(1.0, abs(a[step])), msg=f"step {step}")
        from safetensors.torch import load_file

        wa = load_file(os.path.join(work, "straight", "adapter", "adapter_model.safetensors"))
        wb = load_file(os.path.join(work, "resumed", "adapter", "adapter_model.safetensors"))
        self.assertEqual(set(wa), set(wb))
        for k in wa:
            torch.testing.assert_close(wb[k], wa[k], atol=tol, rtol=tol)


class BadConfigFailsBeforeTheFirstStep(unittest.TestCase):
    def test_unknown_target_module_names_the_field(self) -> None:
        work = tempfile.mkdtemp(prefix="distillery-bad-")
        self.addCleanup(shutil.rmtree, work, True)
        model_dir = os.path.join(work, "base")
        make_tiny_llama(model_dir)
        rc, events, _ = run_train(make_job(work, model_dir, "bad", {}, lora={"targetModules": ["q_proj", "qkv_proj"]}))
        self.assertEqual(rc, 1)
        self.assertEqual(events[-1]["type"], "error")
        self.assertEqual(events[-1]["field"], "lora.targetModules")
        self.assertIn("qkv_proj", events[-1]["message"])
        self.assertFalse(any(e["type"] == "metric" for e in events))

    def test_model_template_without_generation_prompt(self) -> None:
        work = tempfile.mkdtemp(prefix="distillery-bad-")
        self.addCleanup(shutil.rmtree, work, True)
        model_dir = os.path.join(work, "base")
        make_tiny_llama(model_dir)  # its tokenizer has no chat template
        job = make_job(work, model_dir, "bad", {}, data={"datasetVersionId": "d", "template": "model"})
        rc, events, _ = run_train(job)
        self.assertEqual(rc, 1)
        self.assertEqual(events[-1]["field"], "data.template")


if __name__ == "__main__":
    unittest.main()
