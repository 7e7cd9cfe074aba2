import unittest

from distillery_trainer.schema import apply_defaults, first_error, first_error_stdlib, load_schema

from .helpers import fixture_lines, minimal_job

try:
    import jsonschema  # noqa: F401

    HAS_JSONSCHEMA = True
except Exception:
    HAS_JSONSCHEMA = False


class StdlibValidatorOnFixtures(unittest.TestCase):
    def setUp(self) -> None:
        self.schema = load_schema("events")

    def test_every_valid_fixture_passes(self) -> None:
        for i, event in enumerate(fixture_lines("valid.jsonl")):
            with self.subTest(line=i + 1):
                self.assertIsNone(first_error_stdlib(self.schema, event))

    def test_every_invalid_fixture_fails(self) -> None:
        for i, event in enumerate(fixture_lines("invalid.jsonl")):
            with self.subTest(line=i + 1):
                self.assertIsNotNone(first_error_stdlib(self.schema, event), event)

    def test_reports_the_field_of_the_matching_branch(self) -> None:
        path, message = first_error_stdlib(
            self.schema, {"type": "log", "runId": "r", "seq": 0, "ts": 1, "level": "trace", "message": "x"}
        )
        self.assertEqual(path, "level")
        self.assertIn("one of", message)

    def test_unknown_type_names_type(self) -> None:
        path, _ = first_error_stdlib(self.schema, {"type": "nope", "runId": "r", "seq": 0, "ts": 1})
        self.assertEqual(path, "type")

    def test_booleans_are_not_numbers(self) -> None:
        event = {"type": "done", "runId": "r", "seq": True, "ts": 1, "step": 0}
        self.assertIsNotNone(first_error_stdlib(self.schema, event))


@unittest.skipUnless(HAS_JSONSCHEMA, "jsonschema is not installed (python3-jsonschema); stdlib validator tested above")
class JsonschemaAgreesOnFixtures(unittest.TestCase):
    def test_same_verdicts(self) -> None:
        schema = load_schema("events")
        for name, ok in (("valid.jsonl", True), ("invalid.jsonl", False)):
            for i, event in enumerate(fixture_lines(name)):
                with self.subTest(file=name, line=i + 1):
                    self.assertEqual(first_error(schema, event) is None, ok)
                    self.assertEqual(first_error_stdlib(schema, event) is None, ok)


class Defaults(unittest.TestCase):
    def test_fills_nested_defaults_like_zod(self) -> None:
        schema = load_schema("engine-job")
        job = apply_defaults(schema, minimal_job())
        self.assertEqual(job["startSeq"], 0)
        self.assertEqual(job["samplePrompts"], [])
        self.assertEqual(job["config"]["lora"]["r"], 8)
        self.assertEqual(job["config"]["training"]["optimizer"], "adamw_torch")
        self.assertEqual(job["config"]["data"]["template"], "phi3")
        self.assertEqual(job["config"]["specialTokens"], ["<think>", "</think>"])
        self.assertIsNone(first_error_stdlib(schema, job))

    def test_partial_object_gets_its_missing_keys(self) -> None:
        schema = load_schema("engine-job")
        raw = minimal_job()
        raw["config"]["lora"] = {"r": 16}
        job = apply_defaults(schema, raw)
        self.assertEqual(job["config"]["lora"]["r"], 16)
        self.assertEqual(job["config"]["lora"]["alpha"], 16)
        self.assertEqual(job["config"]["lora"]["targetModules"], ["q_proj", "k_proj", "v_proj", "o_proj"])

    def test_does_not_mutate_input(self) -> None:
        schema = load_schema("engine-job")
        raw = minimal_job()
        apply_defaults(schema, raw)
        self.assertNotIn("lora", raw["config"])


if __name__ == "__main__":
    unittest.main()
