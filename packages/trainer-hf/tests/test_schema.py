import unittest

from distillery_trainer.schema import apply_defaults, first_error, first_error_stdlib, load_schema

from .helpers import RUN_CONFIG_FIXTURES, fixture_lines, minimal_job

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


class RunConfigFixtures(unittest.TestCase):
    """packages/core/fixtures/run-config: zod (run-config.test.ts) and the exported JSON Schema
    must agree on every line, the Hub repo pattern included."""

    def setUp(self) -> None:
        self.schema = load_schema("run-config")

    def verdicts(self, name: str) -> list:
        return [apply_defaults(self.schema, c) for c in fixture_lines(name, RUN_CONFIG_FIXTURES)]

    def test_valid_lines_pass_both_validators(self) -> None:
        for i, config in enumerate(self.verdicts("valid.jsonl")):
            with self.subTest(line=i + 1):
                self.assertIsNone(first_error_stdlib(self.schema, config))
                self.assertIsNone(first_error(self.schema, config))

    def test_invalid_lines_fail_both_validators(self) -> None:
        for i, config in enumerate(self.verdicts("invalid.jsonl")):
            with self.subTest(line=i + 1):
                self.assertIsNotNone(first_error_stdlib(self.schema, config), config)
                self.assertIsNotNone(first_error(self.schema, config), config)

    def test_new_fields_get_their_defaults(self) -> None:
        config = self.verdicts("valid.jsonl")[0]
        self.assertEqual(config["lora"]["quantization"], "none")
        self.assertEqual(config["export"], {"private": True, "pushAdapter": True, "pushMerged": True})

    def test_a_bad_hub_repo_names_the_field(self) -> None:
        path, message = first_error_stdlib(self.schema, self.verdicts("invalid.jsonl")[1])
        self.assertEqual(path, "export.hubRepo")
        self.assertIn("does not match", message)


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
