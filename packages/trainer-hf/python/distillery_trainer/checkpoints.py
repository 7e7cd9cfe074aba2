"""Finding the checkpoint to resume from: the latest complete `checkpoint-N` in outDir."""

from __future__ import annotations

import os
import re
from typing import Optional

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# Trainer writes trainer_state.json last; a checkpoint without it was cut off mid-save.
_COMPLETE_MARKER = "trainer_state.json"


def checkpoints_dir(out_dir: str) -> str:
    return os.path.join(out_dir, "checkpoints")


def latest_checkpoint(out_dir: str) -> Optional[str]:
    root = checkpoints_dir(out_dir)
    if not os.path.isdir(root):
        return None
    found: list = []
    for name in os.listdir(root):
        m = _CHECKPOINT.match(name)
        path = os.path.join(root, name)
        if m and os.path.isfile(os.path.join(path, _COMPLETE_MARKER)):
            found.append((int(m.group(1)), path))
    return max(found)[1] if found else None


def step_of(checkpoint_path: str) -> int:
    m = _CHECKPOINT.match(os.path.basename(checkpoint_path.rstrip("/")))
    return int(m.group(1)) if m else 0


def dir_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total
