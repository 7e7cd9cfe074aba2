"""Stored teacher logits in the GPU trainer against the CPU engine.

The fixture (tests/fixtures/teacher-logits, written by scripts/make-teacher-logits-fixture.ts)
holds an artifact engine-local computed on train.jsonl, the student logits of a logit-KD step and
engine-local's loss and gradient for it. Here the trainer reads the artifact with its own reader,
tokenizes nothing (the fixture gives the ids), builds its examples, lays them out padded, packed
(its own first-fit-decreasing packing and a hand-made one) and flat, runs DistillTrainer's
compute_loss on a stand-in model that returns those logits, and must match engine-local's loss
and gradient; every logit outside a counted position must get a zero gradient.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import types
import unittest

from distillery_trainer.errors import TrainerError
from distillery_trainer.formatting import build_example
from distillery_trainer.teacher_logits import (
    FIELD,
    StoredTopK,
    check_for_run,
    load_teacher_logits,
    read_safetensors,
    vocab_of_tokenizer_json,
)

HAS_TORCH = importlib.util.find_spec("torch") is not None
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "teacher-logits")


def fixture() -> dict:
    with open(os.path.join(FIXTURE, "expected.json"), encoding="utf-8") as f:
        return json.load(f)


class Reader(unittest.TestCase):
    def setUp(self) -> None:
        self.fx = fixture()
        self.tl = load_teacher_logits(os.path.join(FIXTURE, "artifact"))
        with open(os.path.join(FIXTURE, "artifact", "tokenizer.json"), encoding="utf-8") as f:
            self.tokens = vocab_of_tokenizer_json(json.load(f))
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)

    def copy(self) -> str:
        dst = os.path.join(self.tmp, "artifact")
        shutil.copytree(os.path.join(FIXTURE, "artifact"), dst)
        return dst

    def test_reads_engine_locals_artifact(self) -> None:
        tl, m = self.tl, self.tl.manifest
        self.assertEqual(m["format"], "distillery.teacher-logits/1")
        self.assertEqual(tl.ids.shape, (m["positions"], m["k"]))
        self.assertEqual(str(tl.logprobs.dtype), "float16")
        self.assertEqual(int(tl.offsets[-1]), m["positions"])
        self.assertEqual(len(tl.firsts), m["rows"])
        lp = tl.logprobs.astype("float64")
        # log-probabilities, best first, and the kept mass at most 1 (fp16 rounding aside)
        self.assertTrue((lp <= 1e-3).all())
        self.assertTrue((lp[:, :-1] >= lp[:, 1:]).all())
        self.assertTrue((__import__("numpy").exp(lp).sum(-1) <= 1.0 + 5e-3).all())
        # each row's first stored position is its prompt's last token (completion-only)
        for r in self.fx["rows"]:
            self.assertEqual(int(tl.firsts[r["source"]]), len(r["promptIds"]) - 1)
        self.assertEqual(len(self.tokens), self.fx["vocab"])

    def test_a_truncated_file_and_a_wrong_format_are_refused_naming_the_field(self) -> None:
        dst = self.copy()
        path = os.path.join(dst, "teacher_logits.safetensors")
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[:-100])
        with self.assertRaises(TrainerError) as e:
            load_teacher_logits(dst)
        self.assertEqual(e.exception.field, FIELD)
        self.assertIn("truncated", e.exception.message)
        with open(os.path.join(dst, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump({"format": "other/9"}, f)
        with self.assertRaisesRegex(TrainerError, "format other/9"):
            load_teacher_logits(dst)
        with open(os.path.join(self.tmp, "x"), "wb") as f:
            f.write(b"\x01\x02")
        with self.assertRaisesRegex(TrainerError, "not a safetensors file"):
            read_safetensors(os.path.join(self.tmp, "x"))

    def run_check(self, **kw) -> None:
        args = dict(
            student_tokens=self.tokens,
            student_name="student",
            data_path=os.path.join(FIXTURE, "train.jsonl"),
            max_seq_length=32,
            completion_only=True,
            top_k=4,
        )
        args.update(kw)
        check_for_run(self.tl, **args)

    def test_check_for_run_refuses_what_engine_local_refuses(self) -> None:
        self.run_check()
        other = list(self.tokens)
        other[200] = "Ġsomething"
        with self.assertRaises(TrainerError) as e:
            self.run_check(student_tokens=other)
        self.assertIn("id 200", e.exception.message)
        self.assertIn("tiny-teacher", e.exception.message)
        self.assertEqual(e.exception.code, "config_invalid")
        data = os.path.join(self.tmp, "train.jsonl")
        with open(os.path.join(FIXTURE, "train.jsonl"), encoding="utf-8") as f:
            text = f.read()
        with open(data, "w", encoding="utf-8") as f:
            f.write(text.replace("black", "brown"))
        with self.assertRaisesRegex(TrainerError, "other examples"):
            self.run_check(data_path=data)
        for kw, field in (
            ({"max_seq_length": 41}, "training.maxSeqLength"),
            ({"completion_only": False}, "training.completionOnlyLoss"),
            ({"top_k": 7}, "distillation.topK"),
        ):
            with self.assertRaises(TrainerError) as e:
                self.run_check(**kw)
            self.assertEqual(e.exception.field, field)

    def test_a_row_tokenized_differently_is_refused_not_misaligned(self) -> None:
        r = self.fx["rows"][1]
        # a BOS in front of the prompt: every position shifts by one
        ex = build_example([1] + r["promptIds"], r["completionIds"], 32, True, r["source"])
        with self.assertRaisesRegex(TrainerError, "tokenized the row differently"):
            StoredTopK(self.tl, 4, 32).example(ex.source, ex.input_ids, ex.labels)
        # trains on every token: positions the completion-only artifact does not hold
        ex = build_example(r["promptIds"], r["completionIds"], 32, False, r["source"])
        with self.assertRaisesRegex(TrainerError, "tokenized the row differently|no stored position"):
            StoredTopK(self.tl, 4, 32).example(ex.source, ex.input_ids, ex.labels)


@unittest.skipUnless(HAS_TORCH, "torch is not installed")
class SameLossAsEngineLocal(unittest.TestCase):
    def setUp(self) -> None:
        import torch

        from distillery_trainer.data import Collator, build_dataset
        from distillery_trainer.distill_trainer import make_distill_trainer
        from distillery_trainer.packing import pack_row

        self.torch = torch
        self.fx = fx = fixture()
        self.V = fx["vocab"]
        L = fx["runMaxSeqLength"]
        self.examples = [build_example(r["promptIds"], r["completionIds"], L, True, r["source"]) for r in fx["rows"]]
        self.stored = StoredTopK(load_teacher_logits(os.path.join(FIXTURE, "artifact")), fx["loss"]["topK"], L)
        tensors = read_safetensors(os.path.join(FIXTURE, "student.safetensors"))
        self.student = {}
        self.grad = {}
        for i, p in enumerate(fx["positions"]):
            self.student[(p["src"], p["t"])] = torch.from_numpy(tensors["student"][i].astype("float64"))
            self.grad[(p["src"], p["t"])] = torch.from_numpy(tensors["grad"][i].astype("float64"))
        ex = self.examples
        self.layouts = {
            "padded": ("padded", list(ex)),
            "packed by hand": ("position-ids", [pack_row([ex[0], ex[2], ex[4]]), pack_row([ex[1], ex[5]]), pack_row([ex[3]])]),
            "packed by the trainer": ("mask", list(build_dataset(ex, True, L).items)),
            "flat": ("flat", [pack_row([ex[0], ex[3]]), pack_row([ex[5], ex[1], ex[2], ex[4]])]),
        }
        self.Collator = Collator

        class Model(torch.nn.Module):
            def __init__(self, logits):
                super().__init__()
                self.logits = torch.nn.Parameter(logits)

            def forward(self, input_ids, **_):
                return types.SimpleNamespace(logits=self.logits)

        class Base:
            def __init__(self, model=None, args=None):
                self.model = model
                self.args = args

            def log(self, logs, *a, **k):
                self.logged = dict(logs)

        self.Model = Model
        self.cls = make_distill_trainer(Base)

    def layout_of(self, mode, features, batch):
        """(source, start) of each example in each batch row, as the collator laid them out."""
        from distillery_trainer.data import example_layout

        rows = example_layout(mode, features)
        out = []
        for b, row in enumerate(rows):
            start = 0
            for source, ids, _ in row:
                out.append((b, start, source, len(ids)))
                start += len(ids)
        return out

    def test_loss_and_gradient_equal_engine_locals_in_every_layout(self) -> None:
        torch = self.torch
        fx, V = self.fx, self.V
        d = {"mode": "logit", "lmbda": 1.0, **{k: fx["loss"][k] for k in ("alpha", "beta", "temperature", "topK")}}
        for name, (mode, features) in self.layouts.items():
            with self.subTest(layout=name):
                batch = self.Collator(mode, pad_id=0, mask_dtype=torch.float64, stored_topk=self.stored)(features)
                self.assertIn("teacher_topk_ids", batch)
                B, W = batch["input_ids"].shape
                g = torch.Generator().manual_seed(5)
                logits = torch.randn(B, W, V, generator=g, dtype=torch.float64) * 4  # junk where nothing counts
                placed = []
                for b, start, source, n in self.layout_of(mode, features, batch):
                    for t in range(n - 1):
                        if (source, t) in self.student:
                            logits[b, start + t] = self.student[(source, t)]
                            placed.append((b, start + t, source, t))
                self.assertEqual(len(placed), fx["expected"]["counted"])
                model = self.Model(logits)
                tr = self.cls(model=model, args=types.SimpleNamespace(gradient_accumulation_steps=1), teacher=None, distillation=d, tokenizer=None, seed=0)
                batch.pop("num_tokens")
                loss = tr.compute_loss(model, dict(batch))
                loss.backward()
                self.assertAlmostEqual(float(loss), fx["expected"]["loss"], places=10)
                tr.log({"loss": float(loss)})
                n = fx["expected"]["counted"]
                self.assertAlmostEqual(tr.logged["kd_loss"], fx["expected"]["kdSum"] / n, places=10)
                self.assertAlmostEqual(tr.logged["ce_loss"], fx["expected"]["ceSum"] / n, places=10)
                self.assertAlmostEqual(tr.logged["top1_agreement"], fx["expected"]["agree"] / n, places=12)
                grad = model.logits.grad.clone()
                for b, pos, source, t in placed:
                    diff = float((grad[b, pos] - self.grad[(source, t)]).abs().max())
                    self.assertLess(diff, 1e-10, f"row {source} position {t}")
                    grad[b, pos] = 0
                self.assertEqual(float(grad.abs().max()), 0.0)  # nothing leaks past the counted positions

    def test_eval_batches_carry_no_stored_logits_and_get_the_cross_entropy(self) -> None:
        torch = self.torch
        ex = [build_example(e.input_ids[:5], e.input_ids[5:], 32, True, None) for e in self.examples]
        batch = self.Collator("padded", pad_id=0, stored_topk=self.stored)(ex)
        self.assertNotIn("teacher_topk_ids", batch)
        batch.pop("num_tokens")
        B, W = batch["input_ids"].shape
        model = self.Model(torch.randn(B, W, self.V, dtype=torch.float64))
        d = {"mode": "logit", "lmbda": 1.0, "alpha": 0.0, "temperature": 1.0, "topK": 4}
        tr = self.cls(model=model, args=None, teacher=None, distillation=d, tokenizer=None, seed=0)
        labels = batch["labels"]
        loss = tr.compute_loss(model, dict(batch))
        y = labels[:, 1:].reshape(-1)
        ref = torch.nn.functional.cross_entropy(model.logits[:, :-1].reshape(-1, self.V), y, ignore_index=-100)
        self.assertAlmostEqual(float(loss), float(ref), places=10)


class DataHash(unittest.TestCase):
    def test_the_fixture_artifact_names_its_training_file(self) -> None:
        with open(os.path.join(FIXTURE, "train.jsonl"), "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual(load_teacher_logits(os.path.join(FIXTURE, "artifact")).manifest["dataSha256"], sha)


if __name__ == "__main__":
    unittest.main()
