"""Hub ids the pinned datasets / huggingface_hub accept: a local folder or 'namespace/name'.

A single-segment id such as `squad` raises HfUriError ("Repository id must be 'namespace/name'")
deep inside the libraries; checking it here gives the corrected id before anything loads.
"""

import os
import re

_NAMESPACED = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
CANONICAL = {
    "squad": "rajpurkar/squad",
    "distilbert-base-uncased": "distilbert/distilbert-base-uncased",
    "bert-base-uncased": "google-bert/bert-base-uncased",
}
_EXAMPLE = {"dataset": "rajpurkar/squad", "model": "distilbert/distilbert-base-uncased"}


def problem(value: str, kind: str) -> str | None:
    """None when `value` is a local folder or a 'namespace/name' id, else what is wrong with it.

    kind: "dataset" or "model" (picks the example in the message).
    """
    if os.path.isdir(value) or _NAMESPACED.match(value):
        return None
    if value.startswith(("/", "./", "../", "~")):
        return f"{value}: no such folder"
    fix = f"use {CANONICAL[value]}" if value in CANONICAL else f"e.g. {_EXAMPLE[kind]}"
    return f"{value}: neither a local folder nor a hub id of the form 'namespace/name' ({fix})"
