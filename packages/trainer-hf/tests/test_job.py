import json
import os
import tempfile
import unittest

from distillery_trainer.errors import TrainerError
from distillery_trainer.job import field_of, parse_job, read_examples, read_job

from .helpers import minimal_job


class ParseJob(unittest.TestCase):
    def test_minimal_job_gets_defaults(self) -> None:
        job = parse_job(minimal_job())
        self.assertEqual(job.run_id, "run_1")
        self.assertEqual(job.paths.base_model, "/models/phi3")
        self.assertIsNone(job.paths.eval_data)
        self.assertEqual(job.lora["targetModules"], ["q_proj", "k_proj", "v_proj", "o_proj"])
        self.assertEqual(job.training["maxSteps"], -1)
        self.assertEqual(job.start_seq, 0)

    def test_sample_prompts_and_start_seq(self) -> None:
        raw = minimal_job()
        raw["samplePrompts"] = [{"prompt": "hi", "rendered": "<|user|>\nhi\n<|end|>\n<|assistant|>\n"}]
        raw["startSeq"] = 17
        job = parse_job(raw)
        self.assertEqual(job.sample_prompts[0].prompt, "hi")
        self.assertEqual(job.start_seq, 17)

    def test_teacher_logits_and_teacher_endpoint_paths(self) -> None:
        raw = minimal_job()
        raw["config"]["distillation"] = {"mode": "logit", "teacherEndpoint": {"teacherId": "t1"}, "topK": 5}
        raw["paths"]["teacherEndpoint"] = {"name": "vLLM 7B", "baseUrl": "http://gpu:8000", "model": "q7", "keyFile": "/run/k"}
        raw["paths"]["teacherLogits"] = "/cache/tl"
        job = parse_job(raw)
        self.assertEqual(job.paths.teacher_endpoint["baseUrl"], "http://gpu:8000")
        self.assertEqual(job.paths.teacher_logits, "/cache/tl")
        self.assertEqual(job.config["distillation"]["teacherEndpoint"]["teacherId"], "t1")

    def assertFieldError(self, raw: dict, field: str) -> TrainerError:
        with self.assertRaises(TrainerError) as ctx:
            parse_job(raw)
        self.assertEqual(ctx.exception.code, "config_invalid")
        self.assertEqual(ctx.exception.field, field)
        return ctx.exception

    def test_names_the_run_config_field(self) -> None:
        raw = minimal_job()
        raw["config"]["lora"] = {"r": 0}
        err = self.assertFieldError(raw, "lora.r")
        self.assertIn("lora.r", err.message)

    def test_empty_target_modules(self) -> None:
        raw = minimal_job()
        raw["config"]["lora"] = {"targetModules": []}
        self.assertFieldError(raw, "lora.targetModules")

    def test_unknown_optimizer(self) -> None:
        raw = minimal_job()
        raw["config"]["training"] = {"optimizer": "lion"}
        self.assertFieldError(raw, "training.optimizer")

    def test_max_steps_zero_is_the_refinement(self) -> None:
        raw = minimal_job()
        raw["config"]["training"] = {"maxSteps": 0}
        self.assertFieldError(raw, "training.maxSteps")

    def test_missing_paths(self) -> None:
        raw = minimal_job()
        del raw["paths"]["trainData"]
        self.assertFieldError(raw, "paths.trainData")

    def test_unknown_config_key(self) -> None:
        raw = minimal_job()
        raw["config"]["lora"] = {"rank": 8}
        self.assertFieldError(raw, "lora.rank")

    def test_not_an_object(self) -> None:
        with self.assertRaises(TrainerError):
            parse_job([])

    def test_field_of(self) -> None:
        self.assertEqual(field_of("config.training.learningRate"), "training.learningRate")
        self.assertEqual(field_of("paths.outDir"), "paths.outDir")


class ReadFiles(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_read_job(self) -> None:
        path = self.write("job.json", json.dumps(minimal_job()))
        self.assertEqual(read_job(path).run_id, "run_1")

    def test_read_job_not_json(self) -> None:
        path = self.write("job.json", "{nope")
        with self.assertRaises(TrainerError) as ctx:
            read_job(path)
        self.assertIn("not JSON", ctx.exception.message)

    def test_read_job_missing(self) -> None:
        with self.assertRaises(TrainerError):
            read_job(os.path.join(self.dir.name, "missing.json"))

    def test_read_examples(self) -> None:
        path = self.write("train.jsonl", '{"prompt":"p","completion":"c"}\n\n{"prompt":"p2","completion":"c2","x":1}\n')
        self.assertEqual(read_examples(path), [{"prompt": "p", "completion": "c"}, {"prompt": "p2", "completion": "c2"}])

    def test_read_examples_names_the_bad_line(self) -> None:
        path = self.write("train.jsonl", '{"prompt":"p","completion":"c"}\n{"prompt":"p"}\n')
        with self.assertRaises(TrainerError) as ctx:
            read_examples(path)
        self.assertEqual(ctx.exception.code, "data_invalid")
        self.assertIn(":2:", ctx.exception.message)

    def test_read_examples_empty(self) -> None:
        path = self.write("train.jsonl", "\n")
        with self.assertRaises(TrainerError):
            read_examples(path)


if __name__ == "__main__":
    unittest.main()


class ParseJobWithStdlibValidator(ParseJob):
    """The same cases where jsonschema is not installed (the stdlib validator decides)."""

    def setUp(self) -> None:
        from unittest import mock

        from distillery_trainer import job, schema

        patcher = mock.patch.object(job, "first_error", schema.first_error_stdlib)
        patcher.start()
        self.addCleanup(patcher.stop)
