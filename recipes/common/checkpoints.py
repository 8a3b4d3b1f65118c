"""Pick the newest checkpoint folder that Trainer finished writing."""

import os
import re

_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
REQUIRED_FILES = ("trainer_state.json", "optimizer.pt", "scheduler.pt")
# Written by transformers' JIT checkpointing while a save is in progress.
INCOMPLETE_SENTINEL = "checkpoint-is-incomplete.txt"


def checkpoint_step(path: str) -> int | None:
    match = _CHECKPOINT_RE.match(os.path.basename(os.path.normpath(path)))
    return int(match.group(1)) if match else None


def is_complete_checkpoint(path: str) -> bool:
    if not os.path.isdir(path) or checkpoint_step(path) is None:
        return False
    files = set(os.listdir(path))
    return (
        all(name in files for name in REQUIRED_FILES)
        and any(name in files for name in WEIGHT_FILES)
        and INCOMPLETE_SENTINEL not in files
    )


def newest_complete_checkpoint(output_dir: str) -> str | None:
    """Path of the highest-numbered complete `checkpoint-N` in output_dir, else None."""
    if not os.path.isdir(output_dir):
        return None
    candidates = [os.path.join(output_dir, name) for name in os.listdir(output_dir)]
    complete = [path for path in candidates if is_complete_checkpoint(path)]
    if not complete:
        return None
    return max(complete, key=checkpoint_step)
