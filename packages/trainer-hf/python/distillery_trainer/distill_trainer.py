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

from .distill_loss import ce_input, feature_losses, mixed_loss
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


def check_feature_layers(feature: dict, student_layers: int, teacher_layers: int) -> None:
    """Refuses a hidden-state index past either model's depth, naming the field (as core's
    featureLayerIssues)."""
    for i, pair in enumerate(feature["layers"]):
        for side, n in (("student", student_layers), ("teacher", teacher_layers)):
            if pair[side] > n:
                raise TrainerError(
                    f"{side} layer {pair[side]} does not exist: the {side} has {n} layers (hidden states 0..{n})",
                    code="config_invalid",
                    field=f"distillation.feature.layers.{i}.{side}",
                )


def make_projections(feature: dict, student_width: int, teacher_width: int, device) -> torch.nn.ModuleList:
    """One Linear student width -> teacher width per layer pair (None-like Identity when equal);
    float32, trained by the student's optimizer, never saved with the model."""
    mods = [
        torch.nn.Linear(student_width, teacher_width) if student_width != teacher_width else torch.nn.Identity()
        for _ in feature["layers"]
    ]
    return torch.nn.ModuleList(mods).to(device=device, dtype=torch.float32)


def _final_norm(model):
    """The decoder's final norm (its input is hidden state n_layers as engine-local counts it)."""
    found = None
    for name, mod in model.named_modules():
        if name == "norm" or name.endswith("model.norm"):
            found = mod
    if found is None:
        raise TrainerError("feature distillation: the model has no final norm module (model.norm)", code="model_invalid")
    return found


def hidden_states_of(model, inputs: dict):
    """Forward with every hidden state: index 0 the embeddings, i the output of decoder layer i,
    the last one taken before the final norm (transformers returns it normed)."""
    captured = {}
    handle = _final_norm(model).register_forward_pre_hook(lambda _m, args: captured.__setitem__("x", args[0]))
    try:
        out = model(**inputs, use_cache=False, output_hidden_states=True)
    finally:
        handle.remove()
    hs = list(out.hidden_states)
    if "x" in captured:
        hs[-1] = captured["x"]
    return out, hs


def make_distill_trainer(base_cls):
    """A subclass of the run's Trainer class that distils from `teacher`."""

    class DistillTrainer(base_cls):
        def __init__(self, *args, teacher, distillation: dict, tokenizer, seed: int, endpoint=None, **kwargs) -> None:
            """teacher: the frozen model, or None when the batches carry the stored top-k
            (teacher_topk_ids / teacher_topk_logprobs, from the collator) or an endpoint
            (endpoint_teacher.EndpointTeacher) scores them."""
            super().__init__(*args, **kwargs)
            self.teacher = teacher
            self.endpoint = endpoint
            self.d = distillation
            self.beta = resolve_beta(distillation)
            self.alpha = 0.0 if distillation["mode"] == "on-policy" and distillation["lmbda"] == 1 else distillation["alpha"]
            self.dist_tokenizer = tokenizer
            self.coin = random.Random(seed)
            self._sums: dict = {}
            self.feature = distillation.get("feature")
            self.projections = None
            if self.feature and teacher is None:
                raise TrainerError(
                    "feature matching needs the teacher's hidden states: run the teacher model (not stored logits or an endpoint)",
                    code="config_invalid",
                    field="distillation.feature",
                )
            if self.feature:
                check_feature_layers(self.feature, self.model.config.num_hidden_layers, teacher.config.num_hidden_layers)
                device = next(self.model.parameters()).device
                self.projections = make_projections(self.feature, self.model.config.hidden_size, teacher.config.hidden_size, device)

        def create_optimizer(self):
            """The student's optimizer, with the feature projections as two more groups (weights
            decayed, biases not, as engine-local); they are not in the model, so not saved."""
            opt = super().create_optimizer()
            if self.projections is not None and not getattr(self, "_projections_added", False):
                weights = [p for n, p in self.projections.named_parameters() if not n.endswith("bias")]
                biases = [p for n, p in self.projections.named_parameters() if n.endswith("bias")]
                if weights:
                    opt.add_param_group({"params": weights, "weight_decay": self.args.weight_decay})
                if biases:
                    opt.add_param_group({"params": biases, "weight_decay": 0.0})
                self._projections_added = True
            return opt

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

        def _endpoint_teacher(self, inputs, labels, k: int, device):
            """The endpoint's top-k of this batch's counted tokens (one request per example)."""
            from .endpoint_teacher import endpoint_topk

            pos = inputs.get("position_ids")
            mask = inputs.get("attention_mask")
            ids, lps, target = endpoint_topk(
                self.endpoint,
                inputs["input_ids"].tolist(),
                labels.tolist(),
                k,
                position_ids=None if pos is None else pos.tolist(),
                attention_mask=None if mask is None or mask.dim() != 2 else mask.tolist(),
            )
            ids_t = torch.from_numpy(ids).to(device)[:, :-1]
            lps_t = torch.from_numpy(lps).to(device)[:, :-1]
            return {"topk_ids": ids_t, "topk_logprobs": lps_t}, torch.from_numpy(target).to(device)[:, :-1]

        def _stop_ids(self):
            ids = []
            for t in ("<|end|>", "<|im_end|>", "<|eot_id|>", "<|endoftext|>"):
                i = self.dist_tokenizer.convert_tokens_to_ids(t)
                if isinstance(i, int) and i != self.dist_tokenizer.unk_token_id:
                    ids.append(i)
            return ids

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            stored_ids = inputs.pop("teacher_topk_ids", None)
            stored_lps = inputs.pop("teacher_topk_logprobs", None)
            if self.d["mode"] == "on-policy" and self.coin.random() < self.d["lmbda"]:
                inputs = self._on_policy_batch(model, inputs)
            labels = inputs.pop("labels")
            inputs.pop("num_tokens", None)
            teacher_logits = None
            if self.feature:
                outputs, student_hs = hidden_states_of(model, inputs)
                with torch.no_grad():
                    teacher_out, teacher_hs = hidden_states_of(self.teacher, inputs)
                teacher_logits = teacher_out.logits
            else:
                outputs = model(**inputs, use_cache=False)
                if self.teacher is not None:
                    with torch.no_grad():
                        teacher_logits = self.teacher(**inputs, use_cache=False).logits
            # position t predicts labels[t + 1]
            s = outputs.logits[:, :-1, :]
            y = labels[:, 1:]
            k = self.d.get("topK")
            target_lp = None
            teacher = None
            if teacher_logits is not None:
                t = teacher_logits[:, :-1, : s.shape[-1]]
                teacher = {"teacher_logits": t}
                if k:  # as the teacher gives it from an endpoint or a stored artifact: top-k log-probs + a tail bucket
                    top = torch.log_softmax(t.float(), -1).topk(int(k), dim=-1)
                    teacher = {"topk_ids": top.indices, "topk_logprobs": top.values}
                with torch.no_grad():
                    target_lp = torch.log_softmax(t.float(), -1).gather(-1, y.clamp_min(0)[..., None]).squeeze(-1)
            elif stored_ids is not None:
                # stored teacher logits: entry t is the distribution of the token at t + 1 (as labels)
                teacher = {"topk_ids": stored_ids[:, :-1], "topk_logprobs": stored_lps[:, :-1]}
            elif self.endpoint is not None:
                teacher, target_lp = self._endpoint_teacher(inputs, labels, int(k or 20), s.device)
            # else: stored teacher logits and an eval batch (they cover the training rows): the
            # data's cross-entropy alone, as engine-local evaluates
            counted = y >= 0
            n = max(int(counted.sum()), 1)
            if self.d["mode"] == "feature" or teacher is None:
                # no divergence: the data's cross-entropy whole (feature mode adds weight x the MSE)
                flat = s.reshape(-1, s.shape[-1])
                ce_sum = torch.nn.functional.cross_entropy(ce_input(flat), y.reshape(-1).clamp_min(0), reduction="none")[
                    y.reshape(-1) >= 0
                ].sum()
                loss = ce_sum / n
                self._add("ce_loss", float(ce_sum) / n)
            else:
                r = mixed_loss(s, y, alpha=self.alpha, beta=self.beta, temperature=float(self.d["temperature"]), **teacher)
                for key in ("kd_loss", "ce_loss", "top1_agreement"):
                    self._add(key, r[key])
                loss = r["loss"]
            if self.feature:
                pairs = [(p["student"], p["teacher"]) for p in self.feature["layers"]]
                projs = [None if isinstance(m, torch.nn.Identity) else m for m in self.projections]
                f = feature_losses(
                    pairs,
                    [h[:, :-1, :].float() for h in student_hs],
                    [h[:, :-1, :].float() for h in teacher_hs],
                    y,
                    projs,
                )
                loss = loss + float(self.feature.get("weight", 1.0)) * f / n
                self._add("feature_loss", float(f) / n)
            if target_lp is not None:
                # the teacher's mean log-prob of the counted tokens (for on-policy: of the student's samples)
                seen = counted & ~torch.isnan(target_lp)
                if seen.any():
                    self._add("teacher_logprob", float(target_lp[seen].mean()))
            # a micro-batch mean; where the Trainer does not divide by the accumulation steps itself
            # (it passes num_items_in_batch to models that accept loss kwargs), divide here
            if num_items_in_batch is not None and getattr(self, "model_accepts_loss_kwargs", False):
                loss = loss / self.args.gradient_accumulation_steps
            return (loss, outputs) if return_outputs else loss

    return DistillTrainer
