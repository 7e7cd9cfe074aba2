"""python -m distillery_trainer {train,merge,check}."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from typing import Optional, Sequence, TextIO

from .errors import TrainerError


def _protocol_stream() -> TextIO:
    """Keeps fd 1 for events only: the protocol gets a duplicate of stdout, and fd 1 (and
    sys.stdout) point at stderr, so a stray print from any library cannot corrupt the stream."""
    fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(fd, "w", buffering=1, encoding="utf-8")


def _run_id_of(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        run_id = raw.get("runId") if isinstance(raw, dict) else None
        return run_id if isinstance(run_id, str) and run_id else None
    except Exception:
        return None


def is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"


def cmd_train(args: argparse.Namespace) -> int:
    from .events import Emitter
    from .job import read_job

    stream = _protocol_stream()
    main = is_main_process()
    try:
        job = read_job(args.config)
    except TrainerError as e:
        run_id = _run_id_of(args.config)
        if run_id is None:
            print(f"distillery_trainer: {e.message}", file=sys.stderr)
            return 2
        Emitter(run_id, 0, stream=stream, is_main_process=main).error(e.to_event_body())
        return 1
    emitter = Emitter(job.run_id, job.start_seq, stream=stream, is_main_process=main)
    try:
        # A Hub push without a token fails here, before torch loads; train.py checks again and
        # asks the Hub about the token.
        from .env_check import can_import
        from .hub_push import check_hub_export

        if job.config["export"].get("hubRepo"):
            check_hub_export(job.config, os.environ, can_import("huggingface_hub"))
        from .train import run_training  # imports torch

        return run_training(job, emitter)
    except TrainerError as e:
        emitter.error(e.to_event_body())
        return 1
    except ImportError as e:
        emitter.error(
            TrainerError(
                f"the hf engine's Python packages are missing: {e}",
                code="environment",
                hint="install torch, transformers, peft, accelerate, safetensors on this worker",
            ).to_event_body()
        )
        return 1
    except Exception as e:  # the last resort: the event says what, stderr holds the traceback
        traceback.print_exc()
        emitter.error({"type": "error", "message": f"{type(e).__name__}: {e}"[:2000], "code": "internal"})
        return 1


def cmd_merge(args: argparse.Namespace) -> int:
    from .merge import merge_adapter

    out = merge_adapter(args.base, args.adapter, args.out, dtype=args.dtype)
    print(json.dumps({"merged": out}))
    return 0


def cmd_check(_args: argparse.Namespace) -> int:
    from .env_check import check_environment

    print(json.dumps(check_environment()))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m distillery_trainer")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a run; events on stdout")
    train.add_argument("--config", required=True, help="path of the EngineJob JSON file")
    train.set_defaults(func=cmd_train)
    merge = sub.add_parser("merge", help="merge a PEFT adapter into its base model")
    merge.add_argument("--base", required=True, help="base model directory or hub id")
    merge.add_argument("--adapter", required=True, help="adapter directory (adapter_config.json)")
    merge.add_argument("--out", required=True, help="output directory for the merged model")
    merge.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"])
    merge.set_defaults(func=cmd_merge)
    check = sub.add_parser("check", help="print what this environment offers, as JSON")
    check.set_defaults(func=cmd_check)
    args = parser.parse_args(argv)
    return int(args.func(args))
