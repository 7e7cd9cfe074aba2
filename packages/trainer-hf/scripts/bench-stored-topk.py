"""Time of the stored teacher-logits lookup per batch (the collator's StoredTopK.rows) on a synthetic
artifact: 64 rows of 300-1000 tokens, completion-only, k 20, 4 packed rows of 2048 per batch.
--compare FILE times another version of teacher_logits.py on the same data (e.g. from
`git show REV:packages/trainer-hf/python/distillery_trainer/teacher_logits.py > /tmp/old.py`) and
checks both give identical arrays.

  PYTHONPATH=python python3 scripts/bench-stored-topk.py [--compare /tmp/old.py]
"""

import argparse
import importlib.util
import sys
import time

import numpy as np

import distillery_trainer.teacher_logits as current


def load(path: str):
    spec = importlib.util.spec_from_file_location("distillery_trainer._compared_teacher_logits", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare")
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows, k, width = 64, 20, 2048
    lens = rng.integers(300, 1000, rows)
    prompts = rng.integers(50, 200, rows)
    offsets = np.concatenate([[0], np.cumsum(lens - prompts)]).astype(np.int32)
    positions = int(offsets[-1])
    fields = dict(
        dir="synthetic",
        manifest={"k": k, "rows": rows, "completionOnly": True, "positions": positions},
        ids=rng.integers(0, 150000, (positions, k)).astype(np.int32),
        logprobs=(-rng.random((positions, k)) * 10).astype(np.float16),
        offsets=offsets,
        firsts=(prompts - 1).astype(np.int32),
    )
    layout, row, used = [], [], 0
    for r in range(rows):
        ids = list(range(int(lens[r])))
        labels = [-100] * int(prompts[r]) + ids[int(prompts[r]) :]
        if used + len(ids) > width:
            layout.append(row)
            row, used = [], 0
        row.append((r, ids, labels))
        used += len(ids)
    batch = layout[:4]
    tokens = sum(len(x[1]) for r in batch for x in r)
    mods = [("current", current)] + ([("compared", load(args.compare))] if args.compare else [])
    out = {}
    for name, mod in mods:
        st = mod.StoredTopK(mod.StoredTeacherLogits(**fields), k, width)
        st.rows(batch, width)
        t0 = time.perf_counter()
        for _ in range(args.reps):
            out[name] = st.rows(batch, width)
        ms = (time.perf_counter() - t0) / args.reps * 1000
        print(f"{name}: {ms:.1f} ms per batch of {len(batch)} packed rows x {width} ({tokens} tokens, k {k})")
    if args.compare:
        same = all((a == b).all() for a, b in zip(out["current"], out["compared"]))
        print(f"identical arrays: {same}")


if __name__ == "__main__":
    main()
