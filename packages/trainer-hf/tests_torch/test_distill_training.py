"""Logit and on-policy distillation through the CLI on tiny random Llamas (the GPU check's KD
smoke step): the teacher is a tiny Llama of the same tokenizer (its own weights), the run emits
the KD series and the loss falls."""

import json
import os
import shutil
import tempfile
import unittest

from .helpers import require_torch_stack

require_torch_stack()

from .helpers import losses_by_step, make_job, make_tiny_llama, run_train  # noqa: E402


def with_teacher(job_path: str, teacher_dir: str, distillation: dict) -> None:
    with open(job_path) as f:
        job = json.load(f)
    job["config"]["distillation"] = distillation
    job["paths"]["teacherModel"] = teacher_dir
    with open(job_path, "w") as f:
        json.dump(job, f)


class DistillRuns(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.work = tempfile.mkdtemp(prefix="distillery-kd-")
        cls.student = os.path.join(cls.work, "student")
        cls.teacher = os.path.join(cls.work, "teacher")
        make_tiny_llama(cls.student, seed=0)
        make_tiny_llama(cls.teacher, seed=1)

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.work, ignore_errors=True)

    def run_mode(self, name: str, distillation: dict):
        # no added tokens: the teacher (another tiny Llama of the same tokenizer) has none either
        job = make_job(self.work, self.student, name, {"maxSteps": 20, "loggingSteps": 1}, specialTokens=[])
        with_teacher(job, self.teacher, distillation)
        rc, events, stderr = run_train(job)
        self.assertEqual(rc, 0, stderr[-3000:])
        return events

    def test_logit_kd_emits_the_kd_series_and_the_divergence_falls(self) -> None:
        events = self.run_mode("logit", {"mode": "logit", "teacher": {"modelId": "t"}, "temperature": 1.0, "alpha": 0.0, "lmbda": 1.0, "maxNewTokens": 8, "samplingTemperature": 1.0})
        kd = [e["values"]["kd_loss"] for e in events if e["type"] == "metric" and "kd_loss" in e["values"]]
        self.assertGreaterEqual(len(kd), 10)
        self.assertLess(sum(kd[-3:]) / 3, sum(kd[:3]) / 3, kd)
        agree = [e["values"]["top1_agreement"] for e in events if e["type"] == "metric" and "top1_agreement" in e["values"]]
        self.assertTrue(all(0 <= a <= 1 for a in agree))
        self.assertEqual(sorted(losses_by_step(events)), list(range(1, 21)))

    def test_on_policy_samples_and_reports_their_length(self) -> None:
        events = self.run_mode("onpolicy", {"mode": "on-policy", "teacher": {"modelId": "t"}, "temperature": 1.0, "alpha": 0.0, "lmbda": 1.0, "maxNewTokens": 8, "samplingTemperature": 1.0})
        lengths = [e["values"]["sampled_length"] for e in events if e["type"] == "metric" and "sampled_length" in e["values"]]
        self.assertTrue(lengths and all(0 < x <= 8 for x in lengths), lengths)

    def test_feature_mode_with_logit_trains_a_projection_and_reports_the_feature_loss(self) -> None:
        wide = os.path.join(self.work, "teacher-wide")
        make_tiny_llama(wide, seed=2, hidden_size=96, num_layers=3)
        job = make_job(self.work, self.student, "feature", {"maxSteps": 20, "loggingSteps": 1}, specialTokens=[])
        with_teacher(
            job,
            wide,
            {
                "mode": "logit",
                "teacher": {"modelId": "t"},
                "temperature": 1.0,
                "alpha": 0.5,
                "lmbda": 1.0,
                "maxNewTokens": 8,
                "samplingTemperature": 1.0,
                "feature": {"layers": [{"student": 1, "teacher": 2}, {"student": 2, "teacher": 3}], "weight": 0.5},
            },
        )
        rc, events, stderr = run_train(job)
        self.assertEqual(rc, 0, stderr[-3000:])
        feat = [e["values"]["feature_loss"] for e in events if e["type"] == "metric" and "feature_loss" in e["values"]]
        self.assertGreaterEqual(len(feat), 10)
        self.assertLess(sum(feat[-3:]) / 3, sum(feat[:3]) / 3, feat)

    def test_feature_layer_past_the_depth_is_refused_naming_the_field(self) -> None:
        job = make_job(self.work, self.student, "feature-bad", {"maxSteps": 2}, specialTokens=[])
        with_teacher(
            job,
            self.teacher,
            {
                "mode": "feature",
                "teacher": {"modelId": "t"},
                "temperature": 1.0,
                "alpha": 0.0,
                "lmbda": 1.0,
                "maxNewTokens": 8,
                "samplingTemperature": 1.0,
                "feature": {"layers": [{"student": 1, "teacher": 9}], "weight": 1.0},
            },
        )
        rc, events, _ = run_train(job)
        self.assertNotEqual(rc, 0)
        errors = [e for e in events if e["type"] == "error"]
        self.assertEqual(errors[0].get("field"), "distillation.feature.layers.0.teacher", errors)
