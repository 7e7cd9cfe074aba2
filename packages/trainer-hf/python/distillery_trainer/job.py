"""Reads and validates the EngineJob file the worker writes (packages/core ZEngineJob)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .errors import TrainerError, config_error
from .schema import apply_defaults, first_error, load_schema


@dataclass(frozen=True)
class JobPaths:
    base_model: str
    train_data: str
    out_dir: str
    eval_data: Optional[str] = None
    teacher_model: Optional[str] = None
    # folder of a stored "teacher logits" artifact (logit mode with distillation.teacherLogits)
    teacher_logits: Optional[str] = None
    # a teacher endpoint: {name, baseUrl, model, keyFile?, requestsPerMinute?} (never the key)
    teacher_endpoint: Optional[dict] = None


@dataclass(frozen=True)
class SamplePrompt:
    prompt: str
    rendered: str


@dataclass(frozen=True)
class Job:
    run_id: str
    config: dict
    paths: JobPaths
    sample_prompts: list = field(default_factory=list)
    start_seq: int = 0

    @property
    def lora(self) -> dict:
        return self.config["lora"]

    @property
    def training(self) -> dict:
        return self.config["training"]

    @property
    def sampling(self) -> dict:
        return self.config["sampling"]


def field_of(path: str) -> str:
    """A job path as the studio names the field: `config.lora.r` → `lora.r`."""
    return path[len("config.") :] if path.startswith("config.") else path


def parse_job(raw: Any) -> Job:
    """Validates a decoded job against engine-job.schema.json (defaults filled), then the rules
    zod's refinements add and the JSON Schema cannot say."""
    if not isinstance(raw, dict):
        raise TrainerError("the job file must hold a JSON object", code="config_invalid")
    schema = load_schema("engine-job")
    job = apply_defaults(schema, raw)
    err = first_error(schema, job)
    if err:
        path, message = err
        raise config_error(field_of(path) or "(root)", f"{field_of(path) or 'job'}: {message}")
    training = job["config"]["training"]
    if training["maxSteps"] == 0:
        raise config_error("training.maxSteps", "maxSteps must be -1 (use epochs) or ≥ 1")
    paths = job["paths"]
    return Job(
        run_id=job["runId"],
        config=job["config"],
        paths=JobPaths(
            base_model=paths["baseModel"],
            train_data=paths["trainData"],
            out_dir=paths["outDir"],
            eval_data=paths.get("evalData"),
            teacher_model=paths.get("teacherModel"),
            teacher_logits=paths.get("teacherLogits"),
            teacher_endpoint=paths.get("teacherEndpoint"),
        ),
        sample_prompts=[SamplePrompt(p["prompt"], p["rendered"]) for p in job["samplePrompts"]],
        start_seq=job["startSeq"],
    )


def read_job(path: str) -> Job:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise TrainerError(f"cannot read job file {path}: {e.strerror}", code="config_invalid") from e
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise TrainerError(f"job file {path} is not JSON: {e}", code="config_invalid") from e
    return parse_job(raw)


def read_examples(path: str) -> list:
    """JSONL of {prompt, completion}; a bad line is a data_invalid error naming the line."""
    rows: list = []
    try:
        handle = open(path, encoding="utf-8")
    except OSError as e:
        raise TrainerError(f"cannot read {path}: {e.strerror}", code="data_invalid") from e
    with handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise TrainerError(f"{path}:{lineno}: not JSON ({e.msg})", code="data_invalid") from e
            if (
                not isinstance(row, dict)
                or not isinstance(row.get("prompt"), str)
                or not isinstance(row.get("completion"), str)
            ):
                raise TrainerError(
                    f"{path}:{lineno}: expected an object with string prompt and completion",
                    code="data_invalid",
                )
            rows.append({"prompt": row["prompt"], "completion": row["completion"]})
    if not rows:
        raise TrainerError(f"{path} holds no examples", code="data_invalid")
    return rows
