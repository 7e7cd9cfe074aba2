"""Shared test helpers: fixture paths and a minimal job, as the worker would write it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
FIXTURES = PACKAGE_DIR.parent / "core" / "fixtures" / "events"
RUN_CONFIG_FIXTURES = PACKAGE_DIR.parent / "core" / "fixtures" / "run-config"

MINIMAL_JOB = {
    "runId": "run_1",
    "config": {
        "engine": "hf",
        "model": {"id": "microsoft/Phi-3-mini-4k-instruct"},
        "data": {"datasetVersionId": "dsv_1"},
    },
    "paths": {"baseModel": "/models/phi3", "trainData": "/runs/run_1/train.jsonl", "outDir": "/runs/run_1"},
}


def minimal_job() -> dict:
    return copy.deepcopy(MINIMAL_JOB)


def fixture_lines(name: str, folder: Path = FIXTURES) -> list:
    text = (folder / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
