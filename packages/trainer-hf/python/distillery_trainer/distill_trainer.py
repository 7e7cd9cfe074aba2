"""Logit and on-policy distillation in the GPU trainer: a Trainer whose compute_loss runs the frozen
teacher on the same batch and mixes alpha * CE + (1 - alpha) * divergence (distill_loss.py, the
same math as engine-local). On-policy batches (probability lmbda, GKD's lambda) are first replaced
by the student's own samples of the batch's prompts; the teacher then judges those tokens.

TRL's GKDTrainer computes the same loss where it is installed; this class does not depend on TRL,
so the studio's trainer behaves the same whether or not it is there.
"""

from __future__ import annotations

import random

import torch

from .distill_loss import mixed_loss
from .errors import TrainerError


def resolve_beta(d: dict) -> float:
    beta = d.get("beta")
    if beta is not None:
        return float(beta)
    return 1.0 if d["mode"] == "on-policy" else 0.0


def load_teacher(path: str, dtype, device, student_vocab: int, log):
    """The frozen teacher beside the student (bf16 on the student's GPU, or the student's dtype)."""
    from transformers import AutoModelForCausalLM

    if not path:
        raise TrainerError(
            "logit and on-policy distillation need the teacher model's folder",
            code="config_invalid",
            field="distillation.teacher.modelId",
        )
    teacher = AutoModelForCausalLM.from_pretrained(path, torch_dtype=dtype)
    if teacher.get_input_embeddings().weight.shape[0] < student_vocab:
        teacher.resize_token_embeddings(student_vocab)
    teacher.to(device)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    n = sum(p.numel() for p in teacher.parameters())
    log(f"teacher {path}: {n / 1e6:.1f}M parameters, {dtype}, frozen")
    return teacher


def check_same_tokenizer(student_tok, teacher_path: str, student_name: str) -> None:
    """Refuses a teacher whose ids mean other tokens (the first differing id named)."""
    from transformers import AutoTokenizer

    teacher_tok = AutoTokenizer.from_pretrained(teacher_path)
    a = student_tok.convert_ids_to_tokens(list(range(len(student_tok))))
    b = teacher_tok.convert_ids_to_tokens(list(range(len(teacher_tok))))
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        if x != y:
            raise TrainerError(
                f"the student ({student_name}) and the teacher ({teacher_path}) have different tokenizers: "
                f"id {i} is {x!r} in the student and {y!r} in the teacher",
                code="config_invalid",
                field="distillation.teacher.modelId",
            )


def make_distill_trainer(base_cls):
    """A subclass of the run's Trainer class that distils from `teacher`."""

    class DistillTrainer(base_cls):
        def __init__(self, *args, teacher, distillation: dict, tokenizer, seed: int, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.teacher = teacher
            self.d = distillation
            self.beta = resolve_beta(distillation)
            self.alpha = 0.0 if distillation["mode"] == "on-policy" and distillation["lmbda"] == 1 else distillation["alpha"]
            self.dist_tokenizer = tokenizer
            self.coin = random.Random(seed)
            self._sums: dict = {}

        def _add(self, key: str, value: float) -> None:
            total, n = self._sums.get(key, (0.0, 0))
            self._sums[key] = (total + value, n + 1)

        def log(self, logs, *args, **kwargs):
            if "loss" in logs:
                for key, (total, n) in self._sums.items():
                    logs[key] = total / max(n, 1)
                self._sums = {}
            return super().log(logs, *args, **kwargs)

        @torch.no_grad()
        def _on_policy_batch(self, model, inputs):
            """The batch's prompts (up to each row's first label), completed by the student."""
            labels = inputs["labels"]
            pad = self.dist_tokenizer.pad_token_id
            prompts = []
            for row, lab in zip(inputs["input_ids"], labels):
                idx = (lab != -100).nonzero()
                first = int(idx[0]) if len(idx) else int((row != pad).sum())
                prompts.append(row[:first])
            width = max(len(p) for p in prompts)
            ids = torch.full((len(prompts), width), pad, dtype=torch.long, device=labels.device)
            mask = torch.zeros_like(ids)
            for i, p in enumerate(prompts):  # left-padded for generate
                ids[i, width - len(p) :] = p
                mask[i, width - len(p) :] = 1
            was_training = model.training
            model.eval()
            out = model.generate(
                input_ids=ids,
                attention_mask=mask,
                do_sample=True,
                temperature=float(self.d["samplingTemperature"]),
                top_p=1.0,
                max_new_tokens=int(self.d["maxNewTokens"]),
                pad_token_id=pad,
                use_cache=True,
            )
            if was_training:
                model.train()
            gen = out[:, width:]
            eos = set(self.dist_tokenizer.all_special_ids) & {self.dist_tokenizer.eos_token_id, *self._stop_ids()}
            rows, lens = [], []
            for i, p in enumerate(prompts):
                completion = []
                for tok in gen[i].tolist():
                    completion.append(tok)
                    if tok in eos:
                        break
                lens.append(len(completion))
                rows.append((p.tolist(), completion))
            seq = max(len(p) + len(c) for p, c in rows)
            new_ids = torch.full((len(rows), seq), pad, dtype=torch.long, device=labels.device)
            new_labels = torch.full_like(new_ids, -100)
            new_mask = torch.zeros_like(new_ids)
            for i, (p, c) in enumerate(rows):
                full = p + c
                new_ids[i, : len(full)] = torch.tensor(full, device=labels.device)
                new_labels[i, len(p) : len(full)] = torch.tensor(c, device=labels.device)
                new_mask[i, : len(full)] = 1
            self._add("sampled_length", sum(lens) / max(len(lens), 1))
            return {"input_ids": new_ids, "attention_mask": new_mask, "labels": new_labels}

        def _stop_ids(self):
            ids = []
            for t in ("<|end|>", "<|im_end|>", "<|eot_id|>", "<|endoftext|>"):
                i = self.dist_tokenizer.convert_tokens_to_ids(t)
                if isinstance(i, int) and i != self.dist_tokenizer.unk_token_id:
                    ids.append(i)
            return ids

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if self.d["mode"] == "on-policy" and self.coin.random() < self.d["lmbda"]:
                inputs = self._on_policy_batch(model, inputs)
            labels = inputs.pop("labels")
            inputs.pop("num_tokens", None)
            outputs = model(**inputs, use_cache=False)
            with torch.no_grad():
                teacher_logits = self.teacher(**inputs, use_cache=False).logits
            # position t predicts labels[t + 1]
            s = outputs.logits[:, :-1, :]
            t = teacher_logits[:, :-1, : s.shape[-1]]
            y = labels[:, 1:]
            k = self.d.get("topK")
            teacher = {"teacher_logits": t}
            if k:  # the teacher as an endpoint or a stored artifact gives it: top-k log-probs + a tail bucket
                top = torch.log_softmax(t.float(), -1).topk(int(k), dim=-1)
                teacher = {"topk_ids": top.indices, "topk_logprobs": top.values}
            r = mixed_loss(s, y, alpha=self.alpha, beta=self.beta, temperature=float(self.d["temperature"]), **teacher)
            with torch.no_grad():
                lp = torch.log_softmax(t.float(), -1).gather(-1, y.clamp_min(0)[..., None]).squeeze(-1)
                counted = y >= 0
                self._add("teacher_logprob", float(lp[counted].mean()) if counted.any() else 0.0)
            for key in ("kd_loss", "ce_loss", "top1_agreement"):
                self._add(key, r[key])
            loss = r["loss"]
            # a micro-batch mean; where the Trainer does not divide by the accumulation steps itself
            # (it passes num_items_in_batch to models that accept loss kwargs), divide here
            if num_items_in_batch is not None and getattr(self, "model_accepts_loss_kwargs", False):
                loss = loss / self.args.gradient_accumulation_steps
            return (loss, outputs) if return_outputs else loss

    return DistillTrainer
