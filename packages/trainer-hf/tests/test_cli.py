import json
import os
import subprocess
import sys
import tempfile
import unittest
from typing import Optional

from distillery_trainer.schema import first_error_stdlib, load_schema

from .helpers import PACKAGE_DIR, minimal_job


def run_module(*args: str, env_extra: Optional[dict] = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_DIR / "python"), **(env_extra or {})}
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "distillery_trainer", *args], capture_output=True, text=True, env=env, timeout=120
    )


def has_torch_stack() -> bool:
    from distillery_trainer.env_check import REQUIRED, package_version

    return all(package_version(name) for name in REQUIRED)


class CheckCommand(unittest.TestCase):
    def test_prints_one_json_object(self) -> None:
        result = run_module("check")
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertIsInstance(report["available"], bool)
        self.assertIn("python", report["versions"])
        self.assertIsInstance(report["gpus"], list)
        if not report["available"]:
            self.assertTrue(report["reason"])


class TrainCommand(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def write_job(self, job: dict) -> str:
        path = os.path.join(self.dir.name, "job.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(job, f)
        return path

    def events_of(self, result: subprocess.CompletedProcess) -> list:
        events = [json.loads(line) for line in result.stdout.splitlines()]
        schema = load_schema("events")
        for e in events:
            self.assertIsNone(first_error_stdlib(schema, e), e)
        return events

    def test_invalid_config_is_an_error_event_naming_the_field(self) -> None:
        job = minimal_job()
        job["startSeq"] = 5
        job["config"]["lora"] = {"targetModules": []}
        result = run_module("train", "--config", self.write_job(job))
        self.assertEqual(result.returncode, 1)
        events = self.events_of(result)
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["type"], "error")
        self.assertEqual(events[0]["field"], "lora.targetModules")
        self.assertEqual(events[0]["runId"], "run_1")

    def test_hub_repo_without_token_fails_before_torch_loads(self) -> None:
        job = minimal_job()
        job["config"]["export"] = {"hubRepo": "my-org/phi3-r1-distilled"}
        no_token = {"HF_TOKEN": None, "HUGGING_FACE_HUB_TOKEN": None}
        result = run_module("train", "--config", self.write_job(job), env_extra=no_token)
        self.assertEqual(result.returncode, 1)
        events = self.events_of(result)
        self.assertEqual([e["type"] for e in events], ["error"])  # not even `starting`
        self.assertEqual(events[0]["field"], "export.hubRepo")
        self.assertEqual(events[0]["code"], "environment")
        self.assertIn("HF_TOKEN is missing", events[0]["message"])

    def test_unreadable_job_without_run_id_goes_to_stderr(self) -> None:
        result = run_module("train", "--config", os.path.join(self.dir.name, "missing.json"))
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")
        self.assertIn("cannot read job file", result.stderr)

    @unittest.skipIf(has_torch_stack(), "torch stack installed: tests_torch covers training")
    def test_without_torch_the_error_says_what_is_missing(self) -> None:
        job = minimal_job()
        job["startSeq"] = 3
        result = run_module("train", "--config", self.write_job(job))
        self.assertEqual(result.returncode, 1)
        events = self.events_of(result)
        self.assertEqual(events[-1]["type"], "error")
        self.assertEqual(events[-1]["code"], "environment")
        self.assertEqual(events[0]["seq"], 3)

    def test_usage_error(self) -> None:
        result = run_module("train")
        self.assertEqual(result.returncode, 2)


if __name__ == "__main__":
    unittest.main()
