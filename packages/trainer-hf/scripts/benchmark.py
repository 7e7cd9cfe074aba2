"""GPU benchmark: our trainer (packing) against a plain transformers.Trainer + peft baseline
(no packing, dynamic padding), same ~0.5B random-init Qwen2-shaped student, same data, LoRA r16
on all linear layers, sequence 2048, bf16. Nothing is downloaded: the model comes from a config,
the tokenizer is a word-level one built here, the data are synthetic words.

    PYTHONPATH=python python3 scripts/benchmark.py --out /tmp/bench.json [--steps 40]

Lengths follow a long-tailed (log-normal) distribution clipped to [128, 2048] tokens, like
reasoning traces; the ratio depends on it (padding is what packing removes), so it is printed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SPECIALS = ["<unk>", "<s>", "</s>", "<|user|>", "<|end|>", "<|assistant|>"]


def build_student(model_dir: str) -> dict:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    # Qwen2.5-0.5B's shape (494M parameters with its 151,936-token vocabulary, tied embeddings).
    vocab_size = 151936
    words = [f"w{i}" for i in range(vocab_size - len(SPECIALS) - 64)]
    vocab = {t: i for i, t in enumerate(SPECIALS + words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens(SPECIALS)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>").save_pretrained(model_dir)
    config = Qwen2Config(
        vocab_size=vocab_size, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
        num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=4096,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
    )
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(model_dir, safe_serialization=True)
    del model
    torch.cuda.empty_cache()
    return {"parameters": params, "words": len(words)}


def write_data(path: str, n: int, n_words: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    lengths = []
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n):
            total = int(min(2048, max(128, rng.lognormvariate(math.log(700), 0.6))))
            prompt_len = max(8, int(total * rng.uniform(0.05, 0.2)))
            # 3 template tokens + BOS in the prompt, 4 (<think>, </think>, <|end|>) in the completion
            p = " ".join(f"w{rng.randrange(n_words)}" for _ in range(prompt_len - 4))
            c = " ".join(f"w{rng.randrange(n_words)}" for _ in range(total - prompt_len - 3))
            f.write(json.dumps({"prompt": f"<|user|>\n{p}\n<|end|>\n<|assistant|>\n",
                                "completion": f"<think>\n{c}\n</think>\n\n<|end|>"}) + "\n")
            lengths.append(total)
    return {"examples": n, "mean_tokens": sum(lengths) / n, "max_tokens": max(lengths)}


def run_ours(work: str, model_dir: str, data: str, steps: int, batch: int, timeout: float) -> dict:
    job = {
        "runId": "bench",
        "config": {
            "engine": "hf", "model": {"id": "bench-qwen2-0.5b"}, "data": {"datasetVersionId": "bench", "template": "chatml", "evalFraction": 0},
            "lora": {"r": 16, "alpha": 32, "dropout": 0.05, "targetModules": TARGETS},
            "training": {"maxSteps": steps, "perDeviceBatchSize": batch, "gradientAccumulationSteps": 1,
                         "learningRate": 1e-4, "warmupRatio": 0.0, "precision": "bf16", "maxSeqLength": 2048,
                         "packing": True, "evalStrategy": "no", "saveStrategy": "no", "loggingSteps": 5,
                         "optimizer": "adamw_torch"},
            "merge": {"mergeAndUnload": False},
        },
        "paths": {"baseModel": model_dir, "trainData": data, "outDir": os.path.join(work, "ours")},
    }
    job_path = os.path.join(work, "ours.job.json")
    with open(job_path, "w") as f:
        json.dump(job, f)
    env = {**os.environ, "PYTHONPATH": os.path.join(PACKAGE, "python")}
    proc = subprocess.run([sys.executable, "-m", "distillery_trainer", "train", "--config", job_path],
                          capture_output=True, text=True, env=env, timeout=timeout)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"our trainer failed: {events[-1] if events else proc.returncode}")
    metrics = [e for e in events if e["type"] == "metric" and "tokens_per_second" in e["values"]]
    if not metrics:
        raise RuntimeError("our trainer logged no tokens_per_second metric")
    steady = metrics[1:] or metrics  # the first window holds CUDA warm-up
    logs = [e["message"] for e in events if e["type"] == "log"]
    return {
        "tokens_per_second": sum(m["values"]["tokens_per_second"] for m in steady) / len(steady),
        "peak_memory_mb": max(m["values"].get("gpu_memory_mb", 0) for m in metrics),
        "notes": [m for m in logs if m.startswith(("packing", "attention"))],
    }


def run_baseline(model_dir: str, data: str, steps: int, batch: int, work: str) -> dict:
    """The plain recipe: tokenize prompt+completion, mask the prompt, pad each batch to its
    longest example, transformers.Trainer + peft.get_peft_model. No packing."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer,
                              TrainerCallback, TrainingArguments)

    sys.path.insert(0, os.path.join(PACKAGE, "python"))
    from distillery_trainer.model_setup import dtype_kwarg  # `dtype` since transformers 4.56

    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.add_tokens(["<think>", "</think>"], special_tokens=True)
    tok.pad_token = tok.eos_token
    rows = [json.loads(line) for line in open(data, encoding="utf-8")]
    features = []
    for r in rows:
        p = tok(r["prompt"], add_special_tokens=False)["input_ids"]  # as the trainer (templates.encode_rendered)
        c = tok(r["completion"], add_special_tokens=False)["input_ids"]
        ids = (p + c)[:2048]
        features.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": ([-100] * len(p) + c)[:2048]})
    model = AutoModelForCausalLM.from_pretrained(model_dir, **{dtype_kwarg(): torch.bfloat16}, attn_implementation="sdpa")
    model.resize_token_embeddings(len(tok))
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=TARGETS, task_type="CAUSAL_LM"))

    class Timer(TrainerCallback):
        def __init__(self) -> None:
            self.tokens = 0
            self.t0 = None
            self.t1 = None

        def on_step_begin(self, args, state, control, **kw):
            if state.global_step == 5:
                torch.cuda.synchronize()
                self.t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            if state.global_step == steps:
                torch.cuda.synchronize()
                self.t1 = time.perf_counter()

    timer = Timer()
    base_collate = DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)
    # Real tokens of every batch, in the order the DataLoader collates them (= the order the
    # steps consume them). Counted by position, not by time: accelerate's DataLoaderShard
    # collates one batch ahead, so "batches collated so far" overshoots the timed window.
    batch_tokens: list = []

    def collate(batch):
        batch_tokens.append(sum(len(f["input_ids"]) for f in batch))
        return base_collate(batch)

    args = TrainingArguments(
        output_dir=os.path.join(work, "baseline"), max_steps=steps, per_device_train_batch_size=batch,
        learning_rate=1e-4, bf16=True, logging_steps=5, save_strategy="no", report_to="none",
        remove_unused_columns=False, disable_tqdm=True, dataloader_num_workers=0, optim="adamw_torch",
    )
    torch.cuda.reset_peak_memory_stats()
    Trainer(model=model, args=args, train_dataset=features, data_collator=collate, callbacks=[timer]).train()
    if timer.t0 is None or timer.t1 is None:
        raise RuntimeError(f"the baseline's timed window (steps 6..{steps}) did not happen; --steps must be > 5")
    elapsed = timer.t1 - timer.t0
    # the window runs steps 6..steps (GA 1: one batch per step): batches 5..steps-1, 0-based
    return {"tokens_per_second": sum(batch_tokens[5:steps]) / elapsed,
            "peak_memory_mb": torch.cuda.max_memory_allocated() / 2**20}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--examples", type=int, default=3000)
    # each trainer's own limit, so that one that hangs still leaves the other's numbers
    parser.add_argument("--part-timeout", type=float, default=75)
    parser.add_argument("--baseline-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.baseline_only:  # the baseline in its own process: a clean peak-memory reading
        result = run_baseline(os.path.join(args.work, "model"), os.path.join(args.work, "train.jsonl"),
                              args.steps, args.batch, args.work)
        with open(args.out, "w") as f:
            json.dump(result, f)
        return 0

    import torch

    if not torch.cuda.is_available():
        print("benchmark needs a CUDA GPU", file=sys.stderr)
        return 1
    work = args.work or tempfile.mkdtemp(prefix="distillery-bench-")
    model_dir = os.path.join(work, "model")
    os.makedirs(model_dir, exist_ok=True)
    student = build_student(model_dir)
    data = write_data(os.path.join(work, "train.jsonl"), args.examples, student["words"])
    result = {
        "device": torch.cuda.get_device_name(0), "torch": torch.__version__,
        "student_parameters": student["parameters"], "data": data, "steps": args.steps, "batch": args.batch,
        "errors": {},
    }
    # Each side on its own: a failure of one still leaves the other's numbers in the result.
    try:
        result["ours"] = run_ours(work, model_dir, os.path.join(work, "train.jsonl"), args.steps, args.batch,
                                  args.part_timeout)
    except Exception as e:
        result["errors"]["ours"] = f"{type(e).__name__}: {e}"[:1000]
    baseline_json = os.path.join(work, "baseline.json")
    try:
        rc = subprocess.run([sys.executable, os.path.abspath(__file__), "--baseline-only", "--work", work,
                             "--out", baseline_json, "--steps", str(args.steps), "--batch", str(args.batch)],
                            timeout=args.part_timeout).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    if rc == 0:
        with open(baseline_json) as f:
            result["baseline"] = json.load(f)
    else:
        result["errors"]["baseline"] = f"the baseline process ended with {rc}; see the log above"
    if "ours" in result and "baseline" in result:
        result["ratio"] = result["ours"]["tokens_per_second"] / result["baseline"]["tokens_per_second"]
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
