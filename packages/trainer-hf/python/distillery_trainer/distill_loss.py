"""Token-level distillation losses (logit and on-policy modes), the same math as engine-local's
src/model/ops/distill-loss.ts: TRL's generalised JSD (beta 0 = forward KL(teacher||student),
1 = reverse KL(student||teacher)), both distributions softened by T and the loss scaled by T^2,
optionally on the teacher's top-k tokens plus one tail bucket. Torch autograd gives the gradient;
a parity test checks loss and gradient against the TypeScript engine on the same numbers.

Only torch is imported, so the module loads (and is tested) without transformers.
"""

from __future__ import annotations

import math

import torch

TINY = 1e-30


def ce_input(logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy in float32 at least (bf16/fp16 logits upcast; float64 kept, for the parity tests)."""
    return logits if logits.dtype == torch.float64 else logits.float()


def _bucket_divergence(P: torch.Tensor, Q: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-row divergence between bucket distributions P (teacher) and Q (student), [rows, n]."""
    q = Q.clamp_min(TINY)
    p = P.clamp_min(TINY)
    if beta == 0:
        return torch.where(P > 0, P * (p.log() - q.log()), torch.zeros_like(P)).sum(-1)
    if beta == 1:
        return torch.where(Q > 0, Q * (q.log() - p.log()), torch.zeros_like(Q)).sum(-1)
    m = (beta * P + (1 - beta) * Q).clamp_min(TINY)
    kl_p = torch.where(P > 0, P * (p.log() - m.log()), torch.zeros_like(P)).sum(-1)
    kl_q = torch.where(Q > 0, Q * (q.log() - m.log()), torch.zeros_like(Q)).sum(-1)
    return beta * kl_p + (1 - beta) * kl_q


def distill_loss(
    student_logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    beta: float,
    temperature: float,
    teacher_logits: torch.Tensor | None = None,
    topk_ids: torch.Tensor | None = None,
    topk_logprobs: torch.Tensor | None = None,
) -> tuple[torch.Tensor, int, int]:
    """Sum over rows whose target is >= 0 of T^2 * divergence; returns (loss_sum, count, agree).

    student_logits [rows, vocab]; the teacher as full logits [rows, vocab] or as top-k
    (topk_ids [rows, k] int, topk_logprobs [rows, k] at T = 1).
    """
    if not 0 <= beta <= 1:
        raise ValueError(f"beta must be in [0, 1], got {beta}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    mask = targets >= 0
    s = student_logits[mask].double()
    count = int(mask.sum())
    if count == 0:
        return student_logits.sum() * 0, 0, 0
    q = torch.softmax(s / temperature, dim=-1)
    student_arg = s.argmax(-1)
    if teacher_logits is not None:
        t = teacher_logits[mask].double()
        P = torch.softmax(t / temperature, dim=-1)
        Q = q
        teacher_arg = t.argmax(-1)
    else:
        if topk_ids is None or topk_logprobs is None:
            raise ValueError("give the teacher's logits or its top-k ids and log-probabilities")
        ids = topk_ids[mask].long()
        lp = topk_logprobs[mask].double()
        tail = (1 - lp.exp().sum(-1)).clamp_min(0)
        bucket_logits = torch.cat([lp, torch.where(tail > 0, tail.log(), torch.full_like(tail, -math.inf))[:, None]], -1)
        P = torch.softmax(bucket_logits / temperature, dim=-1)
        kept = q.gather(-1, ids)
        Q = torch.cat([kept, (1 - kept.sum(-1)).clamp_min(0)[:, None]], -1)
        teacher_arg = ids.gather(-1, lp.argmax(-1, keepdim=True)).squeeze(-1)
    loss = (temperature**2) * _bucket_divergence(P, Q, beta).sum()
    agree = int((student_arg == teacher_arg).sum())
    # float32 at least: a bf16 sum over thousands of tokens would keep ~3 significant digits
    return loss.to(torch.promote_types(student_logits.dtype, torch.float32)), count, agree


def mixed_loss(
    student_logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    alpha: float,
    beta: float,
    temperature: float,
    teacher_logits: torch.Tensor | None = None,
    topk_ids: torch.Tensor | None = None,
    topk_logprobs: torch.Tensor | None = None,
) -> dict:
    """alpha * CE + (1 - alpha) * divergence, averaged over counted tokens (as engine-local)."""
    flat = student_logits.reshape(-1, student_logits.shape[-1])
    t = targets.reshape(-1)
    kd_sum, count, agree = distill_loss(
        flat,
        t,
        beta=beta,
        temperature=temperature,
        teacher_logits=None if teacher_logits is None else teacher_logits.reshape(-1, flat.shape[-1]),
        topk_ids=None if topk_ids is None else topk_ids.reshape(-1, topk_ids.shape[-1]),
        topk_logprobs=None if topk_logprobs is None else topk_logprobs.reshape(-1, topk_logprobs.shape[-1]),
    )
    ce_sum = torch.nn.functional.cross_entropy(ce_input(flat), t.clamp_min(0), reduction="none")[t >= 0].sum()
    n = max(count, 1)
    loss = (alpha * ce_sum + (1 - alpha) * kd_sum) / n
    return {"loss": loss, "kd_loss": float(kd_sum) / n, "ce_loss": float(ce_sum) / n, "top1_agreement": agree / n}


def feature_loss(
    student_hidden: torch.Tensor,
    teacher_hidden: torch.Tensor,
    targets: torch.Tensor,
    proj: torch.nn.Module | None = None,
) -> tuple[torch.Tensor, int]:
    """Feature (hidden-state) distillation, the same math as engine-local's
    src/model/ops/distill-loss-feature.ts: over rows whose target is >= 0, the sum of the per-row
    mean squared error between proj(student) (a learned Linear student width -> teacher width, or
    the state itself when the widths are equal) and the teacher's state. Returns (loss_sum, count).

    student_hidden [rows, dS], teacher_hidden [rows, dT] (no gradient), targets [rows].
    """
    mask = targets >= 0
    count = int(mask.sum())
    if count == 0:
        return student_hidden.sum() * 0, 0
    s = student_hidden[mask]
    t = teacher_hidden[mask].detach().to(s.dtype)
    if proj is None:
        if s.shape[-1] != t.shape[-1]:
            raise ValueError(f"student width {s.shape[-1]} and teacher width {t.shape[-1]} differ: a projection is needed")
        y = s
    else:
        y = proj(s.to(next(proj.parameters()).dtype)).to(s.dtype)
    return ((y - t) ** 2).mean(-1).sum(), count


def feature_losses(
    pairs: list[tuple[int, int]],
    student_hidden: list[torch.Tensor] | tuple[torch.Tensor, ...],
    teacher_hidden: list[torch.Tensor] | tuple[torch.Tensor, ...],
    targets: torch.Tensor,
    projections: list[torch.nn.Module | None],
) -> torch.Tensor:
    """Mean over the layer pairs (student index, teacher index) of feature_loss's sum over counted
    rows; hidden states are indexed as transformers' output_hidden_states, except that index
    n_layers is the last decoder layer's output before the final norm (as engine-local)."""
    total = None
    for (si, ti), proj in zip(pairs, projections):
        s = student_hidden[si]
        t = teacher_hidden[ti]
        loss, _ = feature_loss(s.reshape(-1, s.shape[-1]), t.reshape(-1, t.shape[-1]), targets.reshape(-1), proj)
        total = loss if total is None else total + loss
    return total / len(pairs)
