"""Tiny real models for the torch suite: a random LlamaForCausalLM from a config and a word-level
tokenizer built with `tokenizers`. Nothing is downloaded."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import unittest
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def require_torch_stack() -> None:
    """Skips the whole module (with the reason printed) where torch + transformers + peft are missing."""
    import importlib

    missing = []
    for name in ("torch", "transformers", "peft", "tokenizers", "safetensors"):
        try:
            importlib.import_module(name)
        except Exception as e:
            missing.append(f"{name} ({type(e).__name__})")
    if missing:
        reason = f"torch suite skipped: cannot import {', '.join(missing)}"
        print(reason, file=sys.stderr)
        raise unittest.SkipTest(reason)


SPECIALS = ["<unk>", "<s>", "</s>", "<|user|>", "<|end|>", "<|assistant|>"]
WORDS = [f"w{i}" for i in range(120)]


def make_tokenizer(out_dir: str):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, decoders
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(SPECIALS + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens(SPECIALS)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", 1)])
    tok.decoder = decoders.WordPiece(prefix="##")
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    fast.save_pretrained(out_dir)
    return fast


def make_tiny_llama(out_dir: str, tie: bool = False, seed: int = 0, hidden_size: int = 64, num_layers: int = 2):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(SPECIALS) + len(WORDS),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=tie,
        bos_token_id=1,
        eos_token_id=2,
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(out_dir, safe_serialization=True)
    make_tokenizer(out_dir)
    return model


def copy_task_rows(n: int, seed: int = 0) -> list:
    """A learnable task: repeat the prompt's words reversed after a short think block."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        words = [rng.choice(WORDS[:40]) for _ in range(rng.randint(3, 10))]
        prompt = "<|user|>\n" + " ".join(words) + "\n<|end|>\n<|assistant|>\n"
        completion = "<think>\n" + " ".join(words) + "\n</think>\n\n" + " ".join(reversed(words)) + " <|end|>"
        rows.append({"prompt": prompt, "completion": completion})
    return rows


def write_jsonl(path: str, rows: list) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def make_job(work: str, model_dir: str, out_name: str, training: dict, lora: dict | None = None, **config) -> str:
    train = os.path.join(work, "train.jsonl")
    if not os.path.exists(train):
        write_jsonl(train, copy_task_rows(256))
        write_jsonl(os.path.join(work, "eval.jsonl"), copy_task_rows(16, seed=1))
    out_dir = os.path.join(work, out_name)
    job = {
        "runId": f"run_{out_name}",
        "config": {
            "engine": "hf",
            "model": {"id": "tiny-llama"},
            "data": {"datasetVersionId": "dsv_test", "template": "phi3"},
            "lora": {"r": 8, "alpha": 16, "dropout": 0.05, "targetModules": ["q_proj", "k_proj", "v_proj", "o_proj"], **(lora or {})},
            "training": {
                "maxSteps": 30, "perDeviceBatchSize": 4, "gradientAccumulationSteps": 1, "learningRate": 3e-3,
                "warmupRatio": 0.0, "maxGradNorm": 1.0, "precision": "fp32", "maxSeqLength": 64,
                "loggingSteps": 1, "evalStrategy": "no", "saveStrategy": "steps", "saveSteps": 10, **training,
            },
            **config,
        },
        "paths": {"baseModel": model_dir, "trainData": train, "evalData": os.path.join(work, "eval.jsonl"), "outDir": out_dir},
        "samplePrompts": [],
    }
    path = os.path.join(work, f"{out_name}.job.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(job, f)
    return path


def run_train(job_path: str, timeout: int = 900) -> tuple:
    """(returncode, events, stderr) of `python -m distillery_trainer train`, events schema-checked."""
    from distillery_trainer.schema import first_error_stdlib, load_schema

    env = {**os.environ, "PYTHONPATH": str(PACKAGE_DIR / "python"), "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(
        [sys.executable, "-m", "distillery_trainer", "train", "--config", job_path],
        capture_output=True, text=True, env=env, timeout=timeout,
    )
    schema = load_schema("events")
    events = []
    for line in result.stdout.splitlines():
        event = json.loads(line)  # every stdout line must be one event
        err = first_error_stdlib(schema, event)
        if err:
            raise AssertionError(f"invalid event {event}: {err}")
        events.append(event)
    return result.returncode, events, result.stderr


def losses_by_step(events: list) -> dict:
    return {e["step"]: e["values"]["loss"] for e in events if e["type"] == "metric" and "loss" in e["values"]}
