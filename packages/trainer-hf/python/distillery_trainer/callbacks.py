"""TrainerCallback that turns Trainer's logs, saves and steps into protocol events, samples from
the fixed prompts, and stops cleanly (with a checkpoint) on SIGTERM."""

from __future__ import annotations

import math
import os
import signal
import time
from typing import Optional

import torch
from transformers import TrainerCallback

from .errors import TrainerError
from .events import Emitter

_METRIC_KEYS = {
    "loss": "loss",
    "eval_loss": "eval_loss",
    "learning_rate": "learning_rate",
    "grad_norm": "grad_norm",
    "epoch": "epoch",
    # distillation (DistillTrainer.log adds them, averaged over the logging window)
    "kd_loss": "kd_loss",
    "ce_loss": "ce_loss",
    "top1_agreement": "top1_agreement",
    "teacher_logprob": "teacher_logprob",
    "sampled_length": "sampled_length",
}


class StopFlag:
    """Set by SIGTERM/SIGINT; read at step boundaries (never acts inside a signal handler)."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> None:
        def handler(signum, _frame) -> None:
            self.requested = True

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def agreed(self) -> bool:
        """Across ranks: every rank must stop at the same step or DDP's all-reduce hangs."""
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            device = torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else "cpu"
            flag = torch.tensor([1 if self.requested else 0], device=device)
            torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
            return bool(flag.item())
        return self.requested


class TokenCounter:
    def __init__(self) -> None:
        self.total = 0
        self._mark_tokens = 0
        self._mark_time = time.perf_counter()

    def add(self, n: int) -> None:
        self.total += n

    def rate_since_mark(self) -> Optional[float]:
        now = time.perf_counter()
        dt = now - self._mark_time
        tokens = self.total - self._mark_tokens
        self._mark_tokens, self._mark_time = self.total, now
        if dt <= 0 or tokens <= 0:
            return None
        world = int(os.environ.get("WORLD_SIZE", "1"))
        return tokens * world / dt


class EventCallback(TrainerCallback):
    def __init__(self, emitter: Emitter, job, tokenizer, counter: TokenCounter, stop: StopFlag, checkpoints_dir: str):
        self.emitter = emitter
        self.job = job
        self.tokenizer = tokenizer
        self.counter = counter
        self.stop = stop
        self.checkpoints_dir = checkpoints_dir
        self.final_metrics: dict = {}
        self.stopped_by_signal = False
        self._warned_fsdp = False

    def on_train_begin(self, args, state, control, **kwargs):
        self.counter.rate_since_mark()
        self.emitter.status("training", f"training {state.max_steps} steps", step=state.global_step,
                            totalSteps=state.max_steps)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "train_runtime" in logs:  # Trainer's summary at the end of train()
            self.final_metrics = {k: v for k, v in logs.items() if isinstance(v, (int, float))}
            return
        values = {_METRIC_KEYS[k]: float(v) for k, v in logs.items() if k in _METRIC_KEYS and v is not None}
        if "loss" in values and not math.isfinite(values["loss"]):
            raise TrainerError(
                f"the loss became {values['loss']} at step {state.global_step}",
                code="nan_loss",
                field="training.learningRate",
                hint="lower the learning rate or maxGradNorm; prefer bf16 over fp16 where the GPU has it",
            )
        if "loss" in values:
            rate = self.counter.rate_since_mark()
            if rate is not None:
                values["tokens_per_second"] = rate
            if torch.cuda.is_available():
                values["gpu_memory_mb"] = torch.cuda.max_memory_allocated() / 2**20
                torch.cuda.reset_peak_memory_stats()
        if values:
            self.emitter.metric(state.global_step, values)

    def on_save(self, args, state, control, **kwargs):
        path = os.path.join(self.checkpoints_dir, f"checkpoint-{state.global_step}")
        self.emitter.checkpoint(state.global_step, path, epoch=state.epoch)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        sampling = self.job.sampling
        if self.job.sample_prompts and model is not None and state.global_step % sampling["everySteps"] == 0:
            self.sample(model, state.global_step)
        if self.stop.agreed():
            self.stopped_by_signal = True
            control.should_save = True
            control.should_training_stop = True
        return control

    def sample(self, model, step: int) -> None:
        if type(model).__name__.startswith("FullyShardedDataParallel"):
            if not self._warned_fsdp:
                self.emitter.log("samples are skipped under FSDP", "warn")
                self._warned_fsdp = True
            return
        for i, text in enumerate(generate_samples(model, self.tokenizer, self.job)):
            self.emitter.sample(step, i, self.job.sample_prompts[i].prompt, text)


def generate_samples(model, tokenizer, job) -> list:
    """Generates from every fixed prompt. Every rank generates (FSDP/DDP stay in step); the RNG
    is forked so sampling never changes the training stream (exact resume holds)."""
    sampling = job.sampling
    device = next(model.parameters()).device
    was_training = model.training
    outputs: list = []
    model.eval()
    devices = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(job.training["seed"])
            for p in job.sample_prompts:
                # the rendered prompt carries its own special tokens (see templates.encode_rendered)
                enc = model_inputs(tokenizer(p.rendered, return_tensors="pt", add_special_tokens=False), device)
                temperature = float(sampling["temperature"])
                gen_kwargs = {
                    "max_new_tokens": int(sampling["maxNewTokens"]),
                    "do_sample": temperature > 0,
                    "pad_token_id": tokenizer.pad_token_id,
                    "use_cache": True,
                }
                if temperature > 0:
                    gen_kwargs.update(temperature=temperature, top_p=float(sampling["topP"]))
                out = model.generate(**enc, **gen_kwargs)
                new = out[0, enc["input_ids"].shape[1] :]
                outputs.append(_decode_keep_think(tokenizer, new))
    finally:
        model.train(was_training)
    return outputs


def model_inputs(encoding, device) -> dict:
    """Only what a causal LM's forward takes. A tokenizer without model_input_names of its own
    (PreTrainedTokenizerFast / v5 TokenizersBackend, as the CPU engine's tokenizer_config says)
    also returns token_type_ids, and generate() refuses them for Llama/Qwen ("The following
    `model_kwargs` are not used by the model", GenerationMixin._validate_model_kwargs)."""
    return {k: encoding[k].to(device) for k in ("input_ids", "attention_mask") if k in encoding}


def _decode_keep_think(tokenizer, ids) -> str:
    """Decodes with special tokens (so `<think>` stays), minus trailing eos/pad."""
    ids = ids.tolist()
    stop = {tokenizer.eos_token_id, tokenizer.pad_token_id} - {None}
    while ids and ids[-1] in stop:
        ids.pop()
    return tokenizer.decode(ids, skip_special_tokens=False)
