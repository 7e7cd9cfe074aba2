"""The Hub push (`export` of the run config): the fail-fast checks and the push itself.

The push is tested against FakeHubApi, the one test double of this suite. It stands in for the
Hub because neither can exist here: huggingface_hub is not installed on these machines, no Hub
can be reached, and a local server speaking the part of the Hub API that huggingface_hub's
upload path uses (preupload, LFS batch, commit) is out of reach without the client to check it
against. The double has HfApi's methods with their keyword names (whoami, create_repo,
upload_folder) and records what it was asked; what the real Hub does with it is unverified.
"""

import io
import json
import os
import tempfile
import unittest

from distillery_trainer.errors import TrainerError
from distillery_trainer.events import Emitter
from distillery_trainer.hub_push import (
    check_hub_export,
    hub_token,
    hub_url,
    open_hub_export,
    plan_uploads,
    push_outputs,
    verify_token,
)
from distillery_trainer.job import parse_job
from distillery_trainer.schema import first_error_stdlib, load_schema

from .helpers import minimal_job

TOKEN = "hf_test_token_0123456789"


def config_with(export: dict, **sections) -> dict:
    raw = minimal_job()
    raw["config"]["export"] = export
    raw["config"].update(sections)
    return parse_job(raw).config


class HttpError(Exception):
    """What huggingface_hub raises on an HTTP error: the response rides along."""

    def __init__(self, status: int) -> None:
        super().__init__(f"{status} Client Error")
        self.response = type("Response", (), {"status_code": status})()


class FakeHubApi:
    """HfApi's whoami / create_repo / upload_folder; records each call (see the module docstring)."""

    def __init__(self, who=None, fail_on=None, endpoint: str = "https://huggingface.co") -> None:
        self.who = who if who is not None else {"name": "alice", "orgs": [{"name": "my-org"}],
                                                "auth": {"accessToken": {"role": "write"}}}
        self.fail_on = fail_on
        self.endpoint = endpoint
        self.calls: list = []

    def whoami(self):
        self.calls.append(("whoami",))
        if isinstance(self.who, Exception):
            raise self.who
        return self.who

    def create_repo(self, *, repo_id, repo_type=None, private=None, exist_ok=False):
        self.calls.append(("create_repo", repo_id, repo_type, private, exist_ok))
        return f"{self.endpoint}/{repo_id}"  # huggingface_hub's RepoUrl is a str of the URL

    def upload_folder(self, *, repo_id, folder_path, path_in_repo=None, repo_type=None, commit_message=None):
        if self.fail_on == "upload":
            raise RuntimeError(f"403 Forbidden for token {TOKEN}")
        files = sorted(os.listdir(folder_path))
        self.calls.append(("upload_folder", repo_id, repo_type, path_in_repo, files, commit_message))


class Token(unittest.TestCase):
    def test_hf_token_first_then_the_old_name_blank_is_none(self) -> None:
        self.assertEqual(hub_token({"HF_TOKEN": "a", "HUGGING_FACE_HUB_TOKEN": "b"}), "a")
        self.assertEqual(hub_token({"HF_TOKEN": " ", "HUGGING_FACE_HUB_TOKEN": "b"}), "b")
        self.assertIsNone(hub_token({}))

    def test_url_follows_hf_endpoint(self) -> None:
        self.assertEqual(hub_url("my-org/x"), "https://huggingface.co/my-org/x")
        self.assertEqual(hub_url("my-org/x", "http://127.0.0.1:8080/"), "http://127.0.0.1:8080/my-org/x")


class Plan(unittest.TestCase):
    def test_merged_at_the_root_adapter_under_adapter(self) -> None:
        plan = plan_uploads(config_with({"hubRepo": "my-org/x"}), "/runs/r")
        self.assertEqual(
            [(u.kind, u.folder, u.path_in_repo) for u in plan],
            [("merged", "/runs/r/merged", ""), ("adapter", "/runs/r/adapter", "adapter")],
        )

    def test_full_fine_tune_pushes_its_model_and_has_no_adapter(self) -> None:
        plan = plan_uploads(config_with({"hubRepo": "my-org/x"}, lora={"method": "full"}), "/runs/r")
        self.assertEqual([(u.kind, u.path_in_repo) for u in plan], [("model", "")])

    def test_each_part_can_be_left_out(self) -> None:
        adapter_only = plan_uploads(config_with({"hubRepo": "my-org/x", "pushMerged": False}), "/o")
        self.assertEqual([u.kind for u in adapter_only], ["adapter"])
        merged_only = plan_uploads(config_with({"hubRepo": "my-org/x", "pushAdapter": False}), "/o")
        self.assertEqual([u.kind for u in merged_only], ["merged"])


class FailFast(unittest.TestCase):
    def assertRefused(self, fn, field: str, code: str) -> TrainerError:
        with self.assertRaises(TrainerError) as ctx:
            fn()
        self.assertEqual((ctx.exception.field, ctx.exception.code), (field, code))
        return ctx.exception

    def test_no_repo_no_checks(self) -> None:
        self.assertIsNone(check_hub_export(config_with({}), {}, has_hub_client=False))

    def test_missing_token_names_export_hub_repo_and_hf_token(self) -> None:
        config = config_with({"hubRepo": "my-org/x"})
        err = self.assertRefused(lambda: check_hub_export(config, {}, True), "export.hubRepo", "environment")
        self.assertIn("HF_TOKEN is missing", err.message)
        self.assertIn("never go in the run config", err.hint)
        self.assertEqual(check_hub_export(config, {"HUGGING_FACE_HUB_TOKEN": TOKEN}, True), "my-org/x")

    def test_missing_client(self) -> None:
        config = config_with({"hubRepo": "my-org/x"})
        err = self.assertRefused(lambda: check_hub_export(config, {"HF_TOKEN": TOKEN}, False), "export.hubRepo", "environment")
        self.assertIn("huggingface_hub", err.message)

    def test_the_rules_zod_refines_with(self) -> None:
        env = {"HF_TOKEN": TOKEN}
        no_merge = config_with({"hubRepo": "my-org/x"}, merge={"mergeAndUnload": False})
        self.assertRefused(lambda: check_hub_export(no_merge, env, True), "export.pushMerged", "config_invalid")
        nothing = config_with({"hubRepo": "my-org/x", "pushAdapter": False, "pushMerged": False})
        self.assertRefused(lambda: check_hub_export(nothing, env, True), "export.hubRepo", "config_invalid")
        full = config_with({"hubRepo": "my-org/x", "pushMerged": False}, lora={"method": "full"})
        self.assertIn("no adapter", self.assertRefused(lambda: check_hub_export(full, env, True), "export.hubRepo", "config_invalid").message)

    def test_token_refused_or_read_only_fails_before_training(self) -> None:
        with self.assertRaises(TrainerError) as ctx:
            verify_token(FakeHubApi(who=HttpError(401)), "my-org/x")
        self.assertEqual(ctx.exception.field, "export.hubRepo")
        read_only = {"name": "alice", "auth": {"accessToken": {"role": "read"}}}
        with self.assertRaises(TrainerError) as ctx:
            verify_token(FakeHubApi(who=read_only), "my-org/x")
        self.assertIn("read-only", ctx.exception.message)

    def test_what_it_cannot_be_sure_of_is_a_warning(self) -> None:
        self.assertIsNone(verify_token(FakeHubApi(), "my-org/x"))
        self.assertIsNone(verify_token(FakeHubApi(), "alice/x"))
        self.assertIn("not among", verify_token(FakeHubApi(), "someone-else/x"))
        self.assertIn("could not check", verify_token(FakeHubApi(who=ConnectionError("offline")), "my-org/x"))
        self.assertIn("could not check", verify_token(FakeHubApi(who=HttpError(404)), "my-org/x"))

    def test_open_hub_export_asks_nothing_without_a_repo(self) -> None:
        made = []
        self.assertIsNone(open_hub_export(config_with({}), {}, lambda m, level: None, False, made.append))
        self.assertEqual(made, [])

    def test_open_hub_export_checks_then_asks_the_hub(self) -> None:
        api = FakeHubApi(who=ConnectionError("offline"))
        logs: list = []
        env = {"HF_TOKEN": TOKEN, "HF_ENDPOINT": "http://hub.local"}
        hub = open_hub_export(config_with({"hubRepo": "my-org/x"}), env, lambda m, level: logs.append((level, m)), True, lambda e: api)
        self.assertEqual((hub.repo_id, hub.private, hub.url), ("my-org/x", True, "http://hub.local/my-org/x"))
        self.assertEqual(api.calls, [("whoami",)])
        self.assertEqual(logs[0][0], "warn")


class Push(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        out = self.dir.name
        for sub, files in (("adapter", ["adapter_config.json", "adapter_model.safetensors"]),
                           ("merged", ["config.json", "model.safetensors", "tokenizer.json"])):
            os.makedirs(os.path.join(out, sub))
            for name in files:
                open(os.path.join(out, sub, name), "w").close()
        self.logs: list = []

    def log(self, message: str, level: str = "info") -> None:
        self.logs.append(message)

    def test_creates_the_repo_then_uploads_merged_and_adapter(self) -> None:
        api = FakeHubApi()
        config = config_with({"hubRepo": "my-org/x", "private": False})
        url = push_outputs(api, "my-org/x", False, plan_uploads(config, self.dir.name), "run_1", self.log)
        self.assertEqual(url, "https://huggingface.co/my-org/x")
        self.assertEqual(api.calls, [
            ("create_repo", "my-org/x", "model", False, True),
            ("upload_folder", "my-org/x", "model", None, ["config.json", "model.safetensors", "tokenizer.json"],
             "Distillery run run_1: merged"),
            ("upload_folder", "my-org/x", "model", "adapter", ["adapter_config.json", "adapter_model.safetensors"],
             "Distillery run run_1: adapter"),
        ])
        self.assertEqual(self.logs, ["pushed merged to my-org/x", "pushed adapter to my-org/x/adapter"])

    def test_the_artifact_event_carries_the_url(self) -> None:
        stream = io.StringIO()
        emitter = Emitter("run_1", 0, stream=stream)
        api = FakeHubApi()
        hub = open_hub_export(config_with({"hubRepo": "my-org/x"}), {"HF_TOKEN": TOKEN}, emitter.log, True, lambda e: api)
        emitter.artifact("hub", hub.push(config_with({"hubRepo": "my-org/x"}), self.dir.name, "run_1", emitter.log))
        events = [json.loads(line) for line in stream.getvalue().splitlines()]
        schema = load_schema("events")
        for e in events:
            self.assertIsNone(first_error_stdlib(schema, e), e)
        self.assertEqual(events[-1]["kind"], "hub")
        self.assertEqual(events[-1]["path"], "https://huggingface.co/my-org/x")
        self.assertEqual(api.calls[1][3], True)  # private by default

    def test_a_missing_folder_is_an_internal_error_before_any_call(self) -> None:
        api = FakeHubApi()
        config = config_with({"hubRepo": "my-org/x"}, lora={"method": "full"})  # expects model/
        with self.assertRaises(TrainerError) as ctx:
            push_outputs(api, "my-org/x", True, plan_uploads(config, self.dir.name), "run_1", self.log)
        self.assertEqual(ctx.exception.code, "internal")
        self.assertEqual(api.calls, [])

    def test_a_failed_upload_names_the_field_and_never_the_token(self) -> None:
        api = FakeHubApi(fail_on="upload")
        config = config_with({"hubRepo": "my-org/x"})
        with self.assertRaises(TrainerError) as ctx:
            push_outputs(api, "my-org/x", True, plan_uploads(config, self.dir.name), "run_1", self.log, TOKEN)
        err = ctx.exception
        self.assertEqual((err.code, err.field), ("hub_push_failed", "export.hubRepo"))
        self.assertIn("403 Forbidden", err.message)
        self.assertNotIn(TOKEN, err.message)


if __name__ == "__main__":
    unittest.main()
