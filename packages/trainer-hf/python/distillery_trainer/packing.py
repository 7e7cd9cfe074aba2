"""Sequence packing without cross-contamination, as plain lists (torch-free, testable).

Examples are packed into rows of at most `capacity` tokens (first-fit decreasing). Inside a
row every example restarts its position ids at 0; the attention backend turns those resets into
a block-diagonal causal mask (flash-attn varlen, or transformers' packed-sequence detection for
SDPA, or an explicit mask built from `segment_ids`). The first label of every example is -100
(formatting.build_example), so no example is trained to predict its first token from the one
before it.
"""

from __future__ import annotations

from typing import Sequence

from .formatting import IGNORE_INDEX, TokenizedExample


def pack_first_fit_decreasing(lengths: Sequence[int], capacity: int) -> list:
    """Bins of example indices, each summing to ≤ capacity. Deterministic: ties keep order."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: list = []
    room: list = []
    for i in order:
        n = lengths[i]
        if n > capacity:
            raise ValueError(f"example {i} has {n} tokens, more than the row capacity {capacity}")
        for b, free in enumerate(room):
            if n <= free:
                bins[b].append(i)
                room[b] -= n
                break
        else:
            bins.append([i])
            room.append(capacity - n)
    return bins


def pack_row(examples: Sequence[TokenizedExample]) -> dict:
    """One packed row: input_ids, labels, position_ids, seq_lens, sources (each example's row)."""
    input_ids: list = []
    sources: list = []
    labels: list = []
    position_ids: list = []
    seq_lens: list = []
    for ex in examples:
        input_ids.extend(ex.input_ids)
        labels.extend(ex.labels)
        position_ids.extend(range(len(ex)))
        seq_lens.append(len(ex))
        sources.append(getattr(ex, "source", None))
    return {"input_ids": input_ids, "labels": labels, "position_ids": position_ids, "seq_lens": seq_lens, "sources": sources}


def collate_packed_rows(rows: Sequence[dict], pad_id: int) -> dict:
    """Pads packed rows to the longest. The padding is its own segment (positions from 0,
    labels -100) at the end of a causal row, so no real token attends to it."""
    width = max(len(r["input_ids"]) for r in rows)
    out: dict = {"input_ids": [], "labels": [], "position_ids": [], "seq_lens": [], "num_tokens": 0}
    for r in rows:
        n = len(r["input_ids"])
        pad = width - n
        out["input_ids"].append(r["input_ids"] + [pad_id] * pad)
        out["labels"].append(r["labels"] + [IGNORE_INDEX] * pad)
        out["position_ids"].append(r["position_ids"] + list(range(pad)))
        out["seq_lens"].append(r["seq_lens"] + ([pad] if pad else []))
        out["num_tokens"] += n
    return out


def flatten_rows(rows: Sequence[dict]) -> dict:
    """All rows of a batch as one row (batch size 1), for flash-attn varlen: no padding at all."""
    flat: dict = {"input_ids": [], "labels": [], "position_ids": [], "seq_lens": []}
    for r in rows:
        for key in flat:
            flat[key].extend(r[key])
    return {
        "input_ids": [flat["input_ids"]],
        "labels": [flat["labels"]],
        "position_ids": [flat["position_ids"]],
        "seq_lens": [flat["seq_lens"]],
        "num_tokens": len(flat["input_ids"]),
    }


def collate_padded(examples: Sequence[TokenizedExample], pad_id: int) -> dict:
    """The unpacked batch: right padding, attention_mask, labels -100 on padding."""
    width = max(len(e) for e in examples)
    out: dict = {"input_ids": [], "labels": [], "attention_mask": [], "num_tokens": 0}
    for e in examples:
        pad = width - len(e)
        out["input_ids"].append(list(e.input_ids) + [pad_id] * pad)
        out["labels"].append(list(e.labels) + [IGNORE_INDEX] * pad)
        out["attention_mask"].append([1] * len(e) + [0] * pad)
        out["num_tokens"] += len(e)
    return out


def segment_ids(seq_lens: Sequence[int]) -> list:
    """Per-token segment index of a row; tokens attend only within their segment."""
    out: list = []
    for s, n in enumerate(seq_lens):
        out.extend([s] * n)
    return out


def can_attend(seq_lens: Sequence[int], query: int, key: int) -> bool:
    """Whether token `query` may attend to token `key` in a packed row (causal, same segment)."""
    seg = segment_ids(seq_lens)
    return key <= query and seg[key] == seg[query]
