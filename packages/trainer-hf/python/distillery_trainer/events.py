"""The event protocol's Python side: one JSON object per line on stdout.

Every event is stamped with runId, a monotonically increasing seq (continuing from the job's
startSeq) and ts, validated against packages/core/schemas/events.schema.json, and flushed at
once. Only rank 0 of a multi-process launch writes; other ranks keep the seq counter in step
but stay silent, so the worker sees one stream.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from typing import Any, Callable, Optional, TextIO

from .schema import first_error, load_schema


class EventValidationError(ValueError):
    pass


def _finite_values(values: dict) -> tuple:
    """Drops NaN/inf (not JSON numbers; zod rejects them) and returns (kept, dropped names)."""
    kept: dict = {}
    dropped: list = []
    for k, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            dropped.append(k)
        else:
            kept[k] = v
    return kept, dropped


class Emitter:
    def __init__(
        self,
        run_id: str,
        start_seq: int = 0,
        stream: Optional[TextIO] = None,
        is_main_process: bool = True,
        validate: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.run_id = run_id
        self.seq = start_seq
        self.stream = stream if stream is not None else sys.stdout
        self.is_main_process = is_main_process
        self.validate = validate
        self.clock = clock
        self._lock = threading.Lock()
        self._schema = load_schema("events") if validate else None

    def stamp(self, body: dict) -> dict:
        with self._lock:
            event = {**body, "runId": self.run_id, "seq": self.seq, "ts": int(self.clock() * 1000)}
            self.seq += 1
        if self._schema is not None:
            err = first_error(self._schema, event)
            if err:
                raise EventValidationError(f"invalid {body.get('type')} event at {err[0] or '(root)'}: {err[1]}")
        return event

    def emit(self, body: dict) -> Optional[dict]:
        event = self.stamp(body)
        if not self.is_main_process:
            return None
        line = json.dumps(event, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()
        return event

    # Helpers, one per event type the trainer emits.

    def status(self, phase: str, message: Optional[str] = None, **extra: Any) -> None:
        body: dict = {"type": "status", "phase": phase, **{k: v for k, v in extra.items() if v is not None}}
        if message:
            body["message"] = message
        self.emit(body)

    def log(self, message: str, level: str = "info") -> None:
        self.emit({"type": "log", "level": level, "message": message})

    def metric(self, step: int, values: dict) -> None:
        kept, dropped = _finite_values(values)
        if dropped:
            self.log(f"non-finite metric values at step {step}: {', '.join(sorted(dropped))}", "warn")
        if kept:
            self.emit({"type": "metric", "step": int(step), "values": kept})

    def sample(self, step: int, prompt_index: int, prompt: str, output: str) -> None:
        self.emit({"type": "sample", "step": int(step), "promptIndex": prompt_index, "prompt": prompt, "output": output})

    def checkpoint(self, step: int, path: str, epoch: Optional[float] = None) -> None:
        body: dict = {"type": "checkpoint", "step": int(step), "path": path}
        if epoch is not None and math.isfinite(epoch) and epoch >= 0:
            body["epoch"] = float(epoch)
        self.emit(body)

    def artifact(self, kind: str, path: str, size_bytes: Optional[int] = None) -> None:
        body: dict = {"type": "artifact", "kind": kind, "path": path}
        if size_bytes is not None:
            body["bytes"] = int(size_bytes)
        self.emit(body)

    def done(self, step: int, metrics: Optional[dict] = None) -> None:
        body: dict = {"type": "done", "step": int(step)}
        if metrics:
            kept, _ = _finite_values(metrics)
            if kept:
                body["metrics"] = kept
        self.emit(body)

    def error(self, body: dict) -> None:
        self.emit(body)
