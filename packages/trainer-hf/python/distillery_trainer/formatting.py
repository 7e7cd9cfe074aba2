"""Turning rendered {prompt, completion} rows into token ids and labels, without torch.

The worker renders rows with the run's chat template already; here the prompt and the
completion are tokenized separately and concatenated, so the boundary between them is exact
(no merge of the last prompt token with the first completion token) and completion-only loss
is a plain mask: label -100 over every prompt token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

IGNORE_INDEX = -100


@dataclass(frozen=True)
class TokenizedExample:
    input_ids: list
    labels: list
    # the example's row in its JSONL file (stored teacher logits are looked up by it), when known
    source: Optional[int] = None

    def __len__(self) -> int:
        return len(self.input_ids)


@dataclass
class FormatStats:
    examples: int = 0
    dropped_prompt_too_long: int = 0
    truncated: int = 0
    tokens: int = 0
    trained_tokens: int = 0
    lengths: list = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"{self.examples} examples, {self.tokens} tokens ({self.trained_tokens} with loss)"]
        if self.truncated:
            parts.append(f"{self.truncated} truncated to the max sequence length")
        if self.dropped_prompt_too_long:
            parts.append(f"{self.dropped_prompt_too_long} dropped (prompt alone fills the max sequence length)")
        return "; ".join(parts)


def build_example(
    prompt_ids: Sequence[int],
    completion_ids: Sequence[int],
    max_len: int,
    completion_only: bool = True,
    source: Optional[int] = None,
) -> Optional[TokenizedExample]:
    """Concatenates prompt and completion ids, truncating the completion to fit max_len.

    Returns None when the prompt leaves no room for a completion token (nothing to learn).
    The first label is always -100: no token predicts it, and in a packed row it would
    otherwise be predicted from the previous example's last token.
    """
    if len(prompt_ids) >= max_len or not completion_ids:
        return None
    room = max_len - len(prompt_ids)
    completion = list(completion_ids[:room])
    input_ids = list(prompt_ids) + completion
    if completion_only:
        labels = [IGNORE_INDEX] * len(prompt_ids) + completion
    else:
        labels = list(input_ids)
    labels[0] = IGNORE_INDEX
    return TokenizedExample(input_ids=input_ids, labels=labels, source=source)


def tokenize_rows(
    rows: Sequence[dict],
    encode_prompt: Callable[[str], list],
    encode_completion: Callable[[str], list],
    max_len: int,
    completion_only: bool = True,
) -> tuple:
    """(examples, FormatStats). encode_prompt adds the tokenizer's BOS; encode_completion adds
    nothing (the completion already ends with the template's end token). A row's `source` (its
    index in the JSONL file) is kept on its example."""
    stats = FormatStats()
    examples: list = []
    for row in rows:
        prompt_ids = encode_prompt(row["prompt"])
        completion_ids = encode_completion(row["completion"])
        example = build_example(prompt_ids, completion_ids, max_len, completion_only, row.get("source"))
        if example is None:
            stats.dropped_prompt_too_long += 1
            continue
        if len(prompt_ids) + len(completion_ids) > max_len:
            stats.truncated += 1
        examples.append(example)
        stats.examples += 1
        stats.tokens += len(example)
        stats.trained_tokens += sum(1 for x in example.labels if x != IGNORE_INDEX)
        stats.lengths.append(len(example))
    return examples, stats


def split_eval(rows: Sequence, fraction: float, seed: int) -> tuple:
    """(train, eval) held out deterministically, used when the job has no eval file."""
    import random

    if fraction <= 0 or len(rows) < 2:
        return list(rows), []
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = max(1, int(round(len(rows) * fraction)))
    n_eval = min(n_eval, len(rows) - 1)
    held = set(order[:n_eval])
    train = [r for i, r in enumerate(rows) if i not in held]
    evals = [r for i, r in enumerate(rows) if i in held]
    return train, evals
