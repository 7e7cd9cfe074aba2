"""Torch side of batching: datasets of examples or packed rows, the collator, and choosing a
packing mode that this transformers version actually keeps isolated (checked on the model)."""

from __future__ import annotations

from typing import Optional, Sequence

import torch

from .formatting import TokenizedExample
from .packing import collate_packed_rows, collate_padded, flatten_rows, pack_first_fit_decreasing, pack_row, segment_ids

# padded: no packing. position-ids: packed rows, transformers derives the block-diagonal mask
# from the position-id resets (masking_utils ≥ 4.53 for SDPA/eager). flat: the whole batch as
# one row, for flash-attn varlen. mask: packed rows with an explicit 4D additive mask.
PACKING_MODES = ("padded", "position-ids", "flat", "mask")


class ListDataset(torch.utils.data.Dataset):
    def __init__(self, items: Sequence) -> None:
        self.items = list(items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self.items[i]


def build_dataset(examples: Sequence[TokenizedExample], packed: bool, capacity: int) -> ListDataset:
    if not packed:
        return ListDataset(examples)
    bins = pack_first_fit_decreasing([len(e) for e in examples], capacity)
    return ListDataset([pack_row([examples[i] for i in b]) for b in bins])


def block_diagonal_mask(seq_lens: Sequence[Sequence[int]], width: int, dtype: torch.dtype) -> torch.Tensor:
    """(batch, 1, width, width) additive mask: 0 where a token may attend, dtype-min elsewhere."""
    seg = torch.tensor([segment_ids(s) for s in seq_lens])
    assert seg.shape[1] == width
    same = seg[:, :, None] == seg[:, None, :]
    causal = torch.ones(width, width, dtype=torch.bool).tril()
    allowed = same & causal
    mask = torch.zeros(allowed.shape, dtype=dtype)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[:, None, :, :]


def example_layout(mode: str, features: Sequence) -> Optional[list]:
    """Per batch row, its examples as (source, input_ids, labels) in order; None when an example
    has no source (eval batches: stored teacher logits cover the training rows only)."""
    rows: list = []
    for f in features:
        if isinstance(f, TokenizedExample):
            if f.source is None:
                return None
            rows.append([(f.source, f.input_ids, f.labels)])
            continue
        sources = f.get("sources") or []
        if len(sources) != len(f["seq_lens"]) or any(s is None for s in sources):
            return None
        row, start = [], 0
        for source, n in zip(sources, f["seq_lens"]):
            row.append((source, f["input_ids"][start : start + n], f["labels"][start : start + n]))
            start += n
        rows.append(row)
    if mode == "flat":  # the whole batch is one row
        return [[seg for row in rows for seg in row]]
    return rows


class Collator:
    def __init__(self, mode: str, pad_id: int, mask_dtype: torch.dtype = torch.float32, stored_topk=None) -> None:
        """stored_topk (teacher_logits.StoredTopK): training batches also carry the stored teacher
        top-k, as teacher_topk_ids [B, W, k] and teacher_topk_logprobs [B, W, k] (entry t: the
        distribution of the token at t + 1)."""
        if mode not in PACKING_MODES:
            raise ValueError(f"unknown packing mode {mode}")
        self.mode = mode
        self.pad_id = pad_id
        self.mask_dtype = mask_dtype
        self.stored_topk = stored_topk

    def __call__(self, features: Sequence) -> dict:
        if self.mode == "padded":
            lists = collate_padded(features, self.pad_id)
            batch = {k: torch.tensor(lists[k]) for k in ("input_ids", "labels", "attention_mask")}
        elif self.mode == "flat":
            lists = flatten_rows(features)
            batch = {k: torch.tensor(lists[k]) for k in ("input_ids", "labels", "position_ids")}
        else:
            lists = collate_packed_rows(features, self.pad_id)
            batch = {k: torch.tensor(lists[k]) for k in ("input_ids", "labels", "position_ids")}
            if self.mode == "mask":
                width = len(lists["input_ids"][0])
                batch["attention_mask"] = block_diagonal_mask(lists["seq_lens"], width, self.mask_dtype)
        # Counted by the trainer for tokens/s and removed before the forward pass.
        batch["num_tokens"] = int(lists["num_tokens"])
        if self.stored_topk is not None:
            layout = example_layout(self.mode, features)
            if layout is not None:
                ids, lps = self.stored_topk.rows(layout, batch["input_ids"].shape[1])
                batch["teacher_topk_ids"] = torch.from_numpy(ids)
                batch["teacher_topk_logprobs"] = torch.from_numpy(lps)
        return batch


def _packed_logits(model, mode: str, a: list, b: list, device, dtype) -> torch.Tensor:
    ex_a = TokenizedExample(a, a)
    ex_b = TokenizedExample(b, b)
    collator = Collator(mode, pad_id=0, mask_dtype=dtype)
    features = [pack_row([ex_a, ex_b])]
    batch = collator(features)
    batch.pop("num_tokens")
    batch.pop("labels")
    batch = {k: v.to(device) for k, v in batch.items()}
    # use_cache=False: a KV cache would turn off transformers' packed-sequence detection.
    return model(**batch, use_cache=False).logits[0, len(a) :].float()


def select_packing_mode(model, candidates: Sequence[str], vocab: int, device, dtype, log) -> str:
    """The first candidate under which a packed [a, b] gives b the same logits as b alone.
    Falls back to "padded" (no packing) rather than train on contaminated attention."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randint(3, vocab, (7,), generator=gen).tolist()
    b = torch.randint(3, vocab, (9,), generator=gen).tolist()
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            alone = model(input_ids=torch.tensor([b], device=device), use_cache=False).logits[0].float()
            scale = alone.abs().max().item()
            tol = (2e-2 * scale + 1e-2) if dtype in (torch.float16, torch.bfloat16) else (1e-3 * scale + 1e-4)
            for mode in candidates:
                try:
                    packed = _packed_logits(model, mode, a, b, device, dtype)
                except Exception as e:
                    log(f"packing mode {mode} failed on this model: {e}", "debug")
                    continue
                diff = (packed - alone).abs().max().item()
                if diff <= tol:
                    log(f"packing: {mode} mode keeps examples isolated (max logit diff {diff:.2e})", "info")
                    return mode
                log(f"packing mode {mode} leaks across examples (max logit diff {diff:.2e})", "debug")
    finally:
        model.train(was_training)
    log("packing disabled: no packing mode keeps examples isolated with this transformers version", "warn")
    return "padded"


def packing_candidates(attn: str) -> list:
    return ["flat"] if attn == "flash_attention_2" else ["position-ids", "mask"]


def count_real_tokens(batch: dict) -> Optional[int]:
    n = batch.get("num_tokens")
    return int(n) if n is not None else None
