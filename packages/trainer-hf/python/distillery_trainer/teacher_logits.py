"""Stored "teacher logits" (the artifact engine-local computes: packages/engine-local/src/train/
teacher-logits.ts) read by a logit run instead of running the teacher.

The folder holds `teacher_logits.safetensors` (`ids` I32 [positions, k], `logprobs` F16
[positions, k], `row_offsets` I32 [rows + 1], `row_first` I32 [rows]), `manifest.json` and the
`tokenizer.json` the ids were made with. Row r of the training JSONL (its non-empty lines, in
order) stores positions row_offsets[r] .. row_offsets[r+1]; stored position p is the row's token
position row_first[r] + p, the teacher's top-k at T = 1 for predicting the token after it.

The lookup is per example and per token position, exactly as engine-local's `storedTeacherTopK`:
whatever the batch layout (padded, packed rows, one flat row), a counted target at position t of
the example of row r reads stored position t - row_first[r], and a counted position the artifact
lacks is an error. numpy only (no torch), so the reader is tested without torch.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .errors import TrainerError

FORMAT = "distillery.teacher-logits/1"
FILE = "teacher_logits.safetensors"
FIELD = "distillation.teacherLogits.artifactId"

_DTYPES = {"I32": np.dtype("<i4"), "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8")}


def _bad(message: str, code: str = "data_invalid", field: str = FIELD) -> TrainerError:
    return TrainerError(message, code=code, field=field)


def read_safetensors(path: str, *, field: str = FIELD) -> dict:
    """{name: numpy array} of a safetensors file: through the `safetensors` package when it is
    installed, else a small reader of the format (8-byte little-endian header length, JSON header,
    raw little-endian data) over a read-only memory map, so a large artifact is not copied."""
    try:
        from safetensors.numpy import load_file  # type: ignore

        return dict(load_file(path))
    except ImportError:
        pass
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise _bad(f"{path} is not a safetensors file (shorter than its header)", field=field)
        n = int.from_bytes(head, "little")
        if n <= 0 or 8 + n > size:
            raise _bad(f"{path} is not a safetensors file (header length {n}, file {size} bytes)", field=field)
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise _bad(f"{path}: the safetensors header is not JSON ({e})", field=field) from e
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    out: dict = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(t.get("dtype"))
        if dtype is None:
            raise _bad(f"{path}: tensor {name} has dtype {t.get('dtype')}, not one this reader knows", field=field)
        a, b = t["data_offsets"]
        shape = tuple(int(x) for x in t["shape"])
        if 8 + n + b > size or b - a != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise _bad(f"{path} is truncated or its tensor {name} does not match its shape {list(shape)}", field=field)
        out[name] = mm[8 + n + a : 8 + n + b].view(dtype).reshape(shape)
    return out


@dataclass
class StoredTeacherLogits:
    dir: str
    manifest: dict
    ids: np.ndarray  # int32 [positions, k]
    logprobs: np.ndarray  # float16 [positions, k]
    offsets: np.ndarray  # int32 [rows + 1]
    firsts: np.ndarray  # int32 [rows]

    @property
    def k(self) -> int:
        return int(self.manifest["k"])

    @property
    def rows(self) -> int:
        return int(self.manifest["rows"])


def load_teacher_logits(path: str) -> StoredTeacherLogits:
    """Reads and checks the artifact folder: format, tensor dtypes and shapes against the manifest."""
    try:
        with open(os.path.join(path, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise _bad(f"teacher logits {path}: no readable manifest.json ({e})") from e
    if manifest.get("format") != FORMAT:
        raise _bad(f"teacher logits {path}: format {manifest.get('format')}, expected {FORMAT}")
    file = os.path.join(path, FILE)
    if not os.path.exists(file):
        raise _bad(f"teacher logits {path}: {FILE} is missing")
    tensors = read_safetensors(file)
    rows, positions, k = int(manifest["rows"]), int(manifest["positions"]), int(manifest["k"])

    def expect(name: str, dtype: str, shape: tuple) -> np.ndarray:
        t = tensors.get(name)
        if t is None or t.dtype != _DTYPES[dtype] or tuple(t.shape) != shape:
            raise _bad(f"teacher logits {file}: tensor {name} is missing or not {dtype} {list(shape)}")
        return t

    return StoredTeacherLogits(
        dir=path,
        manifest=manifest,
        ids=expect("ids", "I32", (positions, k)),
        logprobs=expect("logprobs", "F16", (positions, k)),
        offsets=expect("row_offsets", "I32", (rows + 1,)),
        firsts=expect("row_first", "I32", (rows,)),
    )


def vocab_of_tokenizer_json(tok: dict) -> list:
    """Tokens by id of a tokenizer.json (the model's vocab plus added tokens); None for a gap."""
    model = tok.get("model") or {}
    vocab = model.get("vocab")
    by_id: dict = {}
    if isinstance(vocab, dict):  # BPE / WordPiece / WordLevel: token -> id
        for token, i in vocab.items():
            by_id[int(i)] = token
    elif isinstance(vocab, list):  # Unigram: [[token, score], ...]
        for i, entry in enumerate(vocab):
            by_id[i] = entry[0] if isinstance(entry, (list, tuple)) else entry
    for added in tok.get("added_tokens") or []:
        by_id[int(added["id"])] = added["content"]
    size = max(by_id) + 1 if by_id else 0
    return [by_id.get(i) for i in range(size)]


def first_vocab_difference(student: Sequence, teacher: Sequence) -> Optional[tuple]:
    """(id, student token, teacher token) of the first id whose token differs, else None."""
    for i in range(max(len(student), len(teacher))):
        a = student[i] if i < len(student) else None
        b = teacher[i] if i < len(teacher) else None
        if a != b:
            return i, a, b
    return None


def check_for_run(
    tl: StoredTeacherLogits,
    *,
    student_tokens: Sequence,
    student_name: str,
    data_path: str,
    max_seq_length: int,
    completion_only: bool,
    top_k: Optional[int],
) -> None:
    """Refuses an artifact this run cannot use, with engine-local's rules and fields: another
    tokenizer (the first differing token named), other rendered data, a shorter max length,
    completion positions only for a run that trains on every token, a top-k above the stored k."""
    m = tl.manifest
    try:
        with open(os.path.join(tl.dir, "tokenizer.json"), encoding="utf-8") as f:
            teacher_tokens = vocab_of_tokenizer_json(json.load(f))
    except (OSError, json.JSONDecodeError) as e:
        raise _bad(f"teacher logits {tl.dir}: no readable tokenizer.json ({e})") from e
    d = first_vocab_difference(list(student_tokens), teacher_tokens)
    if d:
        i, a, b = d
        raise _bad(
            f"teacher logits {tl.dir}: the student ({student_name}) and the teacher ({m.get('teacher')}) have "
            f"different tokenizers: id {i} is {a!r} in the student and {b!r} in the teacher",
            code="config_invalid",
        )
    with open(data_path, "rb") as f:
        data_sha = hashlib.sha256(f.read()).hexdigest()
    if data_sha != m.get("dataSha256"):
        raise _bad(
            f"teacher logits {tl.dir} were computed on other examples (data sha256 {str(m.get('dataSha256'))[:12]}…, "
            f"this run's {data_sha[:12]}…): another dataset version or template",
            code="config_invalid",
        )
    if max_seq_length > int(m["maxSeqLength"]):
        raise _bad(
            f"teacher logits {tl.dir} cover sequences up to {m['maxSeqLength']} tokens, the run trains on {max_seq_length}",
            code="config_invalid",
            field="training.maxSeqLength",
        )
    if m.get("completionOnly") and not completion_only:
        raise _bad(
            f"teacher logits {tl.dir} hold completion positions only; the run also trains on prompts",
            code="config_invalid",
            field="training.completionOnlyLoss",
        )
    if top_k is not None and top_k > tl.k:
        raise _bad(f"top-{top_k} asked, the stored teacher logits keep {tl.k} tokens", code="config_invalid", field="distillation.topK")


class StoredTopK:
    """The stored top-k of training examples laid out as the trainer lays them out.

    `example(source, input_ids, labels)` gives arrays [len(input_ids), kk] (ids int64, log-probs
    float32) whose entry t is the teacher's distribution of the token at t + 1, for every t whose
    label labels[t + 1] counts; other entries are id 0 and log-prob 0 (never read: the loss masks
    them by the labels)."""

    def __init__(self, tl: StoredTeacherLogits, k: Optional[int], max_len: int) -> None:
        self.tl = tl
        self.kk = min(int(k or tl.k), tl.k)
        self.max_len = max_len

    def example(self, source: int, input_ids: Sequence[int], labels: Sequence[int]) -> tuple:
        tl, kk = self.tl, self.kk
        n_ids = len(input_ids)
        ids = np.zeros((n_ids, kk), dtype=np.int64)
        lps = np.zeros((n_ids, kk), dtype=np.float32)
        if not 0 <= source < tl.rows:
            raise _bad(f"teacher logits {tl.dir}: no row {source} (the artifact has {tl.rows} rows)")
        off = int(tl.offsets[source])
        n = int(tl.offsets[source + 1]) - off
        first = int(tl.firsts[source])
        lab = np.asarray(labels)
        counted = np.nonzero(lab[1:] != -100)[0]  # positions t whose target (token t + 1) counts
        if counted.size == 0:
            return ids, lps
        # The same ids as the artifact's: a completion-only artifact starts at the prompt's last
        # token, and an example this run did not truncate has as many positions as stored. A
        # tokenizer that adds a BOS in one engine and not the other fails here, not silently.
        prompt_len = int(counted[0]) + 1
        expected_first = max(0, prompt_len - 1) if tl.manifest.get("completionOnly") else 0
        whole = n_ids < self.max_len
        if first != expected_first or (whole and n != n_ids - 1 - first):
            raise _bad(
                f"teacher logits {tl.dir}: row {source} was stored as {first + n + 1} tokens with its first stored "
                f"position at {first}; this run tokenized it as {n_ids} tokens with the completion at {prompt_len}: "
                "the two engines tokenized the row differently (a BOS added by one and not the other?)"
            )
        p = counted - first
        bad = (p < 0) | (p >= n)
        if bad.any():
            raise _bad(f"teacher logits {tl.dir}: row {source} has no stored position {int(counted[np.argmax(bad)])}")
        ids[counted] = tl.ids[off + p, :kk]
        lps[counted] = tl.logprobs[off + p, :kk].astype(np.float32)
        return ids, lps

    def rows(self, rows: Sequence[Sequence[tuple]], width: int) -> tuple:
        """[len(rows), width, kk] arrays for a batch: each row a list of (source, input_ids, labels)
        placed one after the other from position 0 (packed), the rest padding."""
        ids = np.zeros((len(rows), width, self.kk), dtype=np.int64)
        lps = np.zeros((len(rows), width, self.kk), dtype=np.float32)
        for b, row in enumerate(rows):
            start = 0
            for source, input_ids, labels in row:
                i, lp = self.example(source, input_ids, labels)
                ids[b, start : start + len(input_ids)] = i
                lps[b, start : start + len(input_ids)] = lp
                start += len(input_ids)
        return ids, lps
